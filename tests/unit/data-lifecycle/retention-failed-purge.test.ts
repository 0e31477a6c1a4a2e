// A purge that fails before it deletes the registry row leaves the client 'deprovisioning' with its purge
// `started` and open. The next retention run finishes it, whatever the retention period (the failure itself
// touched the row, so the row's last change is no date to count from), and the failure is on the record:
// a `failed` purge entry naming the step, and the run's report counting the failed attempts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { runRetention } from '../../../orchestrator/src/services/enforce-retention.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const ACME = parseClientId('acme');
const DAY_MS = 86_400_000;
// The registry stamps ops-log entries with the wall clock: the purge fails now, the next run is a day on.
const FAILED_AT = new Date();
const NEXT_RUN = new Date(FAILED_AT.getTime() + DAY_MS);
const LATE_RUN = new Date(FAILED_AT.getTime() + 120 * DAY_MS);

/** Every step a purge takes before it has deleted the registry row, the deletion itself included. */
const STEPS_BEFORE_ROW_DELETION = ['scrape target', 'agent', 'network', 'agent resources', 'volume', 'client stores', 'ops log erasure', 'registry row'] as const;
type Step = (typeof STEPS_BEFORE_ROW_DELETION)[number];

const injected = (step: string) => new FleetError('unavailable', `${step} failed (injected)`);

/** A registry whose `method` fails once. */
function failingOnce(registry: Registry, method: keyof Registry, step: string): Registry {
  let armed = true;
  return new Proxy(registry, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === method && armed) {
        return () => {
          armed = false;
          return Promise.reject(injected(step));
        };
      }
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A deprovision whose `failing` step (if any) fails once. */
function deprovisioning(registry: Registry, clock: { now: () => Date }, guard: ClientOperationGuard, failing?: Step): DeprovisionClientService {
  const fail = (step: Step) => async () => {
    if (step === failing) throw injected(step);
  };
  const idle = idleContainerRuntime();
  const runtime = { ...idle, stopAgent: fail('agent'), removeNetwork: fail('network'), removeVolume: fail('volume') } as ContainerRuntime;
  const targets = { unregister: fail('scrape target') } as Partial<ScrapeTargets> as ScrapeTargets;
  const faulty = failing === 'ops log erasure' ? failingOnce(registry, 'saveErasedOpsLogEntries', failing) : failing === 'registry row' ? failingOnce(registry, 'deleteClient', failing) : registry;
  return new DeprovisionClientService({
    registry: faulty,
    runtime,
    targets,
    guard,
    clock,
    logger: createSilentLogger(),
    extension: { onRemove: fail('agent resources'), onPurge: fail('client stores') },
  });
}

function retention(registry: Registry, now: Date, failing?: Step) {
  const guard = new ClientOperationGuard();
  const clock = { now: () => now };
  return runRetention({ registry, deprovision: deprovisioning(registry, clock, guard, failing), clock, logger: createSilentLogger(), retentionDays: 90, guard });
}

async function purgeEntries(registry: Registry) {
  return (await registry.listOpsLog({ actions: ['deprovision-purge'] })).map((entry) => ({ outcome: entry.outcome, step: entry.details['step'] }));
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`an operator's purge that failed before the row was deleted (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));

    for (const step of STEPS_BEFORE_ROW_DELETION) {
      test(`failed at "${step}": the next retention run finishes it, and the failure is on the record`, async () => {
        const { registry } = opened;
        const operator = deprovisioning(registry, { now: () => FAILED_AT }, new ClientOperationGuard(), step);
        await assert.rejects(operator.deprovision({ clientId: ACME, purge: true, actor: 'ops' }), /injected/);
        assert.equal((await registry.getClient(ACME))?.status, 'deprovisioning', 'the failed purge left the client half closed');

        const report = await retention(registry, NEXT_RUN);
        assert.deepEqual(report.purged, [ACME], 'finished the next day, not a retention period after the failure');
        assert.equal(await registry.getClient(ACME), null);
        assert.deepEqual(await purgeEntries(registry), [
          { outcome: 'started', step: undefined },
          { outcome: 'failed', step },
          { outcome: 'started', step: undefined },
          { outcome: 'success', step: undefined },
        ]);
      });
    }
  });

  describe(`a retention purge that keeps failing (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async (registry) => {
      await registerActiveClient(registry, ACME, 'jane@acme.example');
      await deprovisioning(registry, { now: () => FAILED_AT }, new ClientOperationGuard()).deprovision({ clientId: ACME, purge: false, actor: 'ops', reason: 'contract ended' });
    });

    test('each run reports it failed with the failed attempts before it, until one succeeds', async () => {
      const { registry } = opened;
      const first = await retention(registry, LATE_RUN, 'volume');
      assert.deepEqual(first.failed.map(({ clientId, failedBefore }) => [clientId, failedBefore]), [[ACME, 0]]);
      assert.deepEqual(first.purged, []);
      const second = await retention(registry, LATE_RUN, 'client stores');
      assert.deepEqual(second.failed.map(({ clientId, failedBefore }) => [clientId, failedBefore]), [[ACME, 1]]);
      assert.match(second.failed[0]?.error ?? '', /client stores failed/);

      const third = await retention(registry, LATE_RUN);
      assert.deepEqual([third.purged, third.failed], [[ACME], []]);
      assert.deepEqual(
        (await purgeEntries(registry)).map((entry) => entry.outcome),
        ['started', 'failed', 'started', 'failed', 'started', 'success'],
      );
    });
  });
}
