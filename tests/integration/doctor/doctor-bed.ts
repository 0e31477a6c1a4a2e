// A fleet for the onboarding doctor's tests: the real orchestrator (Docker agents, embedded Vault) on one
// PGlite database shared with the portal's, team's and doctor's stores, its API on the unix socket the
// `fleet` CLI uses and its /metrics on loopback TCP, a signed-in team member, and a gmail client whose
// agent runs in dry run against the Gmail and Anthropic emulators on its network's gateway.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlIncidentStore } from '../../../orchestrator/src/adapters/sql/sql-incident-store.ts';
import { SqlOnboardingStore } from '../../../orchestrator/src/adapters/sql/sql-onboarding-store.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { sqlTeamStore } from '../../../orchestrator/src/adapters/sql/sql-team-store.ts';
import { runCli } from '../../../orchestrator/src/cli/program.ts';
import { gatewayOf, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';
import { createSocketApp, createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenTcp, listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import type { PortalStore } from '../../../orchestrator/src/ports/portal-store.ts';
import { createFleetFixture, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { freePort } from '../../helpers/monitoring.ts';
import { signInForCli, type TestMember } from '../../helpers/team-session.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface DoctorBed {
  fleet: FleetFixture;
  portalStore: PortalStore;
  member: TestMember;
  /** The client network pool's gateway (emulators listen there; the first client gets the first /28). */
  gateway: string;
  /** Where FLEET_PROMETHEUS_URL points (nothing listens until a test starts Prometheus there). */
  prometheusPort: number;
  orchestratorPort: number;
  cli(...args: string[]): Promise<CliResult>;
  /** The orchestrator's /metrics, as Prometheus scrapes it. */
  scrape(): Promise<string>;
  close(clientIds: readonly string[]): Promise<void>;
}

export async function startDoctorBed(options: { pool?: string } = {}): Promise<DoctorBed> {
  const dbDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-doctor-db-'));
  const sql: SqlExecutor = await openPgliteExecutor(path.join(dbDir, 'registry'));
  await migrate(sql);
  const sealer = registrySealer(randomBytes(32));
  const portalStore = new SqlPortalStore(sql, sealer);
  const prometheusPort = await freePort();
  const pool = options.pool ?? '10.213.0.0/16';
  const fleet = await createFleetFixture(
    {
      FLEET_SUBNET_POOL: pool,
      FLEET_SUBNET_PREFIX: '28',
      FLEET_PROMETHEUS_URL: `http://127.0.0.1:${prometheusPort}`,
    },
    {
      registry: new SqlRegistry(sql, sealer),
      incidentStore: new SqlIncidentStore(sql, sealer),
      teamStore: sqlTeamStore(sql, sealer),
      onboardingStore: new SqlOnboardingStore(sql),
      portalStore,
    },
  );
  const logger = createSilentLogger();
  const socket: Server = await listenUnixSocket(
    createSocketApp(fleet.orchestrator, logger),
    fleet.config.api.socketPath,
  );
  const tcp: Server = await listenTcp(
    createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, logger),
    '127.0.0.1',
    0,
  );
  const orchestratorPort = (tcp.address() as AddressInfo).port;
  const member = await signInForCli(fleet.orchestrator, fleet.homeDir, 'alice');

  const cli = async (...args: string[]): Promise<CliResult> => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await runCli(['node', 'fleet', ...args], {
      env: { AGENT_FLEET_HOME: fleet.homeDir },
      stdout,
      stderr,
    });
    return { code, out, err };
  };

  return {
    fleet,
    portalStore,
    member,
    gateway: gatewayOf(parseIpv4Cidr(pool.replace(/\/\d+$/, '/28'))),
    prometheusPort,
    orchestratorPort,
    cli,
    scrape: async () => (await fetch(`http://127.0.0.1:${orchestratorPort}/metrics`)).text(),
    async close(clientIds) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await fleet.cleanup(clientIds);
      await sql.close();
      await rm(dbDir, { recursive: true, force: true });
    },
  };
}

/** The value of `name{client="<id>"}` in an exposition; undefined when absent. */
export function clientSeries(exposition: string, name: string, clientId: ClientId): number | undefined {
  const line = exposition
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(`client="${clientId}"`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
