// What may happen to a client between the retention run deciding its purge and the purge itself: it is
// provisioned again (with or without a row left before), or a backup holds it. None of them may be purged
// then; each is reported for the next run to decide on again.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientRecord, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { runRetention } from '../../../orchestrator/src/services/enforce-retention.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const ACME = parseClientId('acme');
const DAY_MS = 86_400_000;
// The registry stamps ops-log entries with the wall clock: the closure happens now, the run 120 days on.
const CLOSED_AT = new Date();
const NOW = new Date(CLOSED_AT.getTime() + 120 * DAY_MS);

/**
 * A registry whose `nth` read of `clientId` runs `meanwhile` (another orchestrator provisioning the id) once it
 * has read the row: what the reader acts on is then already out of date.
 */
function changingAfterRead(registry: Registry, clientId: ClientId, nth: number, meanwhile: () => Promise<void>): Registry {
  let reads = 0;
  return new Proxy(registry, {
    get(target, property, receiver) {
      if (property === 'getClient') {
        return async (id: ClientId): Promise<ClientRecord | null> => {
          const record = await target.getClient(id);
          if (id === clientId && ++reads === nth) await meanwhile();
          return record;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function retention(registry: Registry, guard = new ClientOperationGuard()) {
  const clock = { now: () => NOW };
  const deprovision = new DeprovisionClientService({ registry, runtime: idleContainerRuntime(), targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets, guard, clock, logger: createSilentLogger() });
  return runRetention({ registry, deprovision, clock, logger: createSilentLogger(), retentionDays: 90, guard });
}

async function closeAcme(registry: Registry): Promise<void> {
  await registerActiveClient(registry, ACME, 'jane@acme.example');
  const closing = new DeprovisionClientService({ registry, runtime: idleContainerRuntime(), targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets, guard: new ClientOperationGuard(), clock: { now: () => CLOSED_AT }, logger: createSilentLogger() });
  await closing.deprovision({ clientId: ACME, purge: false, actor: 'ops', reason: 'contract ended' });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a closed client due for its purge (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, closeAcme);
    const provisionAgain = () => registerActiveClient(opened.registry, ACME, 'new-admin@acme.example');

    async function assertKeptActive(registry: Registry): Promise<void> {
      assert.equal((await registry.getClient(ACME))?.status, 'active', 'the client provisioned again is kept');
      const purges = await registry.listOpsLog({ actions: ['deprovision-purge'] });
      assert.deepEqual(purges, [], 'no purge of it even started');
    }

    test('provisioned again after the run found it due is not purged: the purge checks it under its guard', async () => {
      const report = await retention(changingAfterRead(opened.registry, ACME, 1, provisionAgain));
      assert.deepEqual([report.purged, report.changed], [[], [ACME]]);
      await assertKeptActive(opened.registry);
    });

    test('provisioned again after the purge read it is not purged: the claim is a compare-and-set on its state', async () => {
      const report = await retention(changingAfterRead(opened.registry, ACME, 2, provisionAgain));
      assert.deepEqual([report.purged, report.changed], [[], [ACME]]);
      await assertKeptActive(opened.registry);
    });

    test('held by a backup, it is left for the next run and reported busy, untouched', async () => {
      const guard = new ClientOperationGuard();
      let finishBackup = () => undefined as void;
      const backup = guard.exclusive(ACME, 'backup', () => new Promise<void>((resolve) => (finishBackup = resolve)));
      const report = await retention(opened.registry, guard);
      finishBackup();
      await backup;
      assert.deepEqual([report.purged, report.busy, report.failed], [[], [ACME], []]);
      assert.equal((await opened.registry.getClient(ACME))?.status, 'deprovisioned');
      assert.deepEqual(await opened.registry.listOpsLog({ actions: ['deprovision-purge'] }), []);
      assert.deepEqual((await retention(opened.registry, guard)).purged, [ACME], 'the next run purges it');
    });

    test('its row gone (a purge cut off), a client provisioned again under the id before the finish is not purged', async () => {
      assert.equal(await opened.registry.deleteClient(ACME), true);
      const report = await retention(changingAfterRead(opened.registry, ACME, 1, provisionAgain));
      assert.deepEqual([report.purged, report.changed], [[], [ACME]]);
      await assertKeptActive(opened.registry);
    });
  });
}
