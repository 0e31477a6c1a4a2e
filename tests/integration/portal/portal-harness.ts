import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { openPgliteExecutor } from '../../../orchestrator/src/adapters/pglite/pglite-sql-executor.ts';
import { migrate } from '../../../orchestrator/src/adapters/sql/migrate.ts';
import { registryKeyDirectory } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import { registrySealer } from '../../../orchestrator/src/adapters/sql/registry-sealer.ts';
import type { SqlExecutor } from '../../../orchestrator/src/adapters/sql/sql-executor.ts';
import { SqlPortalStore } from '../../../orchestrator/src/adapters/sql/sql-portal-store.ts';
import { loadConfig, type PortalConfig } from '../../../orchestrator/src/config.ts';
import { loadPortalKeys } from '../../../orchestrator/src/portal/crypto/portal-keys.ts';
import { SessionManager } from '../../../orchestrator/src/portal/identity/sessions.ts';
import { startPortal, type PortalHandle } from '../../../orchestrator/src/portal/start-portal.ts';
import type { SettingsGateway } from '../../../orchestrator/src/portal/settings-gateway.ts';
import { MemoryClientGateway } from './memory-client-gateway.ts';

/** A clock the test moves forward (sessions, lockouts, links and TOTP steps all read it). */
export class TestClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface PortalHarness {
  portal: PortalHandle;
  gateway: MemoryClientGateway;
  store: SqlPortalStore;
  sql: SqlExecutor;
  clock: TestClock;
  home: string;
  config: PortalConfig;
  close(): Promise<void>;
}

/**
 * The real portal (TLS 1.3 from the fleet CA, PGlite store, real sessions, passkeys and TOTP) over the test
 * gateway with two clients: acme (two admins) and beta (one).
 */
export async function startPortalHarness(
  overrides: Partial<PortalConfig> = {},
  home?: string,
  settings?: SettingsGateway,
): Promise<PortalHarness> {
  const dir = home ?? (await mkdtemp(path.join(os.tmpdir(), 'fleet-portal-')));
  const sql = await openPgliteExecutor(path.join(dir, 'registry'));
  await migrate(sql);
  // The key kept with the home, as the orchestrator keeps it: a harness restarted on the same home reads its admins.
  const store = new SqlPortalStore(sql, registrySealer(await loadOrCreateMasterKey(registryKeyDirectory(dir))));
  const clock = new TestClock();
  const gateway = new MemoryClientGateway();
  gateway.now = () => clock.now();
  gateway.addClient('acme', ['admin@acme.com', 'second@acme.com']);
  gateway.addClient('beta', ['boss@beta.com']);
  const config: PortalConfig = {
    ...loadConfig({ AGENT_FLEET_HOME: dir, PORTAL_PORT: '0' }).portal,
    ...overrides,
  };
  const portal = await startPortal({ config, store, gateway, clock, logger: createSilentLogger(), ...(settings === undefined ? {} : { settings }) });
  return {
    portal,
    gateway,
    store,
    sql,
    clock,
    home: dir,
    config,
    async close() {
      await portal.close();
      await sql.close();
      if (!home) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The harness portal's own session manager, to make a signed-in admin's session as sign-in makes it
 * (the sign-in ceremonies have their own browser tests).
 */
export async function portalSessions(h: PortalHarness): Promise<SessionManager> {
  const keys = await loadPortalKeys(h.config.dataDir);
  return new SessionManager({
    store: h.store.sessions,
    clock: h.clock,
    csrfKey: keys.csrf,
    policy: { idleMs: h.config.sessionIdleMs, absoluteMs: h.config.sessionAbsoluteMs },
  });
}
