// One registry for a describe block, emptied and seeded again before each of its tests.
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';
import type { Registry } from '../../orchestrator/src/ports/registry.ts';
import type { OpenedRegistry, RegistryBackend } from './registries.ts';

/**
 * Opens `backend` for the enclosing `describe` (closing it after) and, before each of its tests, empties it
 * and runs `seed` on it. Call it in the describe's body: what it returns stands for the registry once open.
 */
export function registryPerTest(backend: RegistryBackend, seed: (registry: Registry) => Promise<void>): OpenedRegistry {
  let opened: OpenedRegistry | undefined;
  const current = (): OpenedRegistry => opened ?? assert.fail(`the ${backend.name} registry is used before it was opened`);
  before(async () => {
    opened = await backend.open();
  });
  after(() => current().close());
  beforeEach(async () => {
    await current().reset();
    await seed(current().registry);
  });
  return {
    get registry() {
      return current().registry;
    },
    get dataDir() {
      return current().dataDir;
    },
    get sql() {
      return current().sql;
    },
    reset: () => current().reset(),
    close: () => current().close(),
  };
}
