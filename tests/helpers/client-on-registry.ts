import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ClientStatus } from '../../orchestrator/src/domain/client-status.ts';
import { registryBackends, type OpenedRegistry } from './registries.ts';

/** The backends the service tests of one client run on (PGlite: in process, no server). */
export const inProcessBackends = registryBackends.filter((each) => each.name === 'pglite');

/**
 * Hooks for a describe block: an opened registry, reset before each test to hold one client in `status`
 * (provisioned with a minimal config), and a temporary fleet home. Read `bed.opened` and `bed.homeDir`
 * inside tests and hooks (they are set by `before`).
 */
export function clientOnRegistry(
  backend: (typeof registryBackends)[number],
  client: { id: ClientId; status: ClientStatus; reason?: string | null },
  homePrefix: string,
): { readonly opened: OpenedRegistry; readonly homeDir: string } {
  let opened: OpenedRegistry | undefined;
  let homeDir: string | undefined;
  before(async () => {
    opened = await backend.open();
    homeDir = await mkdtemp(path.join(os.tmpdir(), `${homePrefix}-`));
  });
  after(async () => {
    await opened?.close();
    if (homeDir !== undefined) await rm(homeDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    const registry = (opened as OpenedRegistry).registry;
    await (opened as OpenedRegistry).reset();
    const now = new Date();
    await registry.claimForProvisioning({ id: client.id, provider: 'gmail', admins: [], configYaml: `client: ${client.id}\n`, onboardingStartedAt: now.toISOString() }, 'op', now, 1000);
    await registry.setStatus(client.id, client.status, client.reason ?? null, now);
  });
  return {
    get opened() {
      if (opened === undefined) throw new Error('clientOnRegistry: read inside a test or hook');
      return opened;
    },
    get homeDir() {
      if (homeDir === undefined) throw new Error('clientOnRegistry: read inside a test or hook');
      return homeDir;
    },
  };
}
