// A fleet for the incident tests: the real orchestrator (Docker agents, embedded Vault) with its registry
// and incident store on one PGlite database, its API on the unix socket the CLI uses, its /metrics on
// loopback TCP, and a stand-in for Google's token revocation endpoint that records what it was sent.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EncryptedFileStore, loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlIncidentStore } from '../../../orchestrator/src/adapters/sql/sql-incident-store.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import { SqlRegistry } from '../../../orchestrator/src/adapters/sql/sql-registry.ts';
import { sqlTeamStore } from '../../../orchestrator/src/adapters/sql/sql-team-store.ts';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { runCli } from '../../../orchestrator/src/cli/program.ts';
import { createSocketApp, createTcpApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenTcp, listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { loadOrCreateExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { createFleetFixture, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { signInForCli } from '../../helpers/team-session.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export interface IncidentBed {
  fleet: FleetFixture;
  /** Refresh tokens Google's revocation endpoint was asked to revoke. */
  revokedTokens: string[];
  /** `fleet …` as an operator runs it, against this fleet's socket. */
  cli(...args: string[]): Promise<CliResult>;
  /** `fleet --json …`, parsed; throws with the CLI's stderr unless it exited 0. */
  cliJson<T>(...args: string[]): Promise<T>;
  /** The orchestrator's /metrics, as Prometheus scrapes it. */
  scrape(): Promise<string>;
  /** The fleet's public export key (what an auditor verifies bundles with). */
  publicKeyPem(): Promise<string>;
  /** Whether the embedded Vault still accepts a token with this accessor. */
  accessorAlive(accessor: string): Promise<boolean>;
  /** Accessors of the tokens the client's agent used (other than the orchestrator's own). */
  agentAccessors(clientId: string): Promise<string[]>;
  close(clientIds: readonly string[]): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function startIncidentBed(): Promise<IncidentBed> {
  const dbDir = await mkdtemp(path.join(os.tmpdir(), 'fleet-incident-db-'));
  const sql: SqlExecutor = await openPgliteExecutor(path.join(dbDir, 'registry'));
  await migrate(sql);
  const revokedTokens: string[] = [];
  const google = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const token = new URLSearchParams(body).get('token');
      if (request.method !== 'POST' || !token) response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
      else {
        revokedTokens.push(token);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
    });
  });
  const googlePort = await listen(google);
  const sealer = registrySealer(randomBytes(32));
  const fleet = await createFleetFixture(
    { EMBEDDED_VAULT_PORT: '0' },
    { registry: new SqlRegistry(sql, sealer), incidentStore: new SqlIncidentStore(sql, sealer), teamStore: sqlTeamStore(sql, sealer), googleRevokeUrl: `http://127.0.0.1:${googlePort}/revoke` },
  );
  const logger = createSilentLogger();
  const socket = await listenUnixSocket(createSocketApp(fleet.orchestrator, logger), fleet.config.api.socketPath);
  // Every change on the ops API is a signed-in member's; evidence (client data) needs a code within 15 minutes.
  const member = await signInForCli(fleet.orchestrator, fleet.homeDir);
  const tcp = await listenTcp(createTcpApp(fleet.orchestrator, fleet.orchestrator.metrics, undefined, logger), '127.0.0.1', 0);
  const metricsUrl = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/metrics`;
  const vault = fleet.orchestrator.secretBackend.embedded!;
  const rootVault = () => createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });

  const cli = async (...args: string[]): Promise<CliResult> => {
    await member.keepFresh();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await runCli(['node', 'fleet', ...args], { env: { AGENT_FLEET_HOME: fleet.homeDir }, stdout, stderr });
    return { code, out, err };
  };

  return {
    fleet,
    revokedTokens,
    cli,
    async cliJson<T>(...args: string[]): Promise<T> {
      const result = await cli('--json', ...args);
      if (result.code !== 0) throw new Error(`fleet ${args.join(' ')} exited ${result.code}: ${result.err}`);
      return JSON.parse(result.out) as T;
    },
    async scrape() {
      const response = await fetch(metricsUrl);
      return response.text();
    },
    async publicKeyPem() {
      const keyDir = path.join(fleet.homeDir, 'export-key');
      return (await loadOrCreateExportSigner(new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)), new Date())).publicKeyPem;
    },
    async accessorAlive(accessor) {
      try {
        await rootVault().write('auth/token/lookup-accessor', { accessor });
        return true;
      } catch {
        return false;
      }
    },
    async agentAccessors(clientId) {
      const own = ((await rootVault().read('auth/token/lookup-self')) as { data: { accessor: string } }).data.accessor;
      const used = vault.requestLog.entries().filter((e) => e.accessor && e.accessor !== own && e.path.includes(`/${clientId}/`) && e.status < 400);
      return [...new Set(used.map((e) => e.accessor!))];
    },
    async close(clientIds) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => google.close(() => resolve()));
      await fleet.cleanup(clientIds);
      await sql.close();
      await rm(dbDir, { recursive: true, force: true });
    },
  };
}

/** The value of one series in a Prometheus exposition, by its exact labels; undefined when absent. */
export function seriesValue(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}
