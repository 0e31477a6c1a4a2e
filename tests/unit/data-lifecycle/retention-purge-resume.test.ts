// A retention purge cut off after it deleted the client's registry row (the orchestrator dying there) is
// finished by the next retention run: the client's series leave Prometheus and the purge is on the record.
// Without a row the client is on no list, so only the ops log's closure can say it is unfinished.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { PrometheusMetricsHistory } from '../../../orchestrator/src/adapters/prometheus/prometheus-metrics-history.ts';
import type { OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { closureDates, enforceRetention, unfinishedPurges } from '../../../orchestrator/src/services/enforce-retention.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { seriesOf, startPrometheusEmulator, type PrometheusEmulator } from './prometheus-emulator.ts';
import { dyingAfterRowDeletion } from '../../helpers/registry-faults.ts';

const ACME = parseClientId('acme');
const OTHER = parseClientId('acme-two');
const DAY_MS = 86_400_000;
// The registry stamps ops-log entries with the wall clock: the closure happens now, the run 120 days on.
const CLOSED_AT = new Date();
const NOW = new Date(CLOSED_AT.getTime() + 120 * DAY_MS);

function retentionRun(registry: Registry, history: PrometheusMetricsHistory) {
  const guard = new ClientOperationGuard();
  const clock = { now: () => NOW };
  const deprovision = new DeprovisionClientService({ registry, runtime: idleContainerRuntime(), targets: { unregister: async () => undefined } as never, guard, clock, logger: createSilentLogger(), metricsHistory: history });
  return enforceRetention({ registry, deprovision, clock, logger: createSilentLogger(), retentionDays: 90, metricsHistory: history, guard });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a retention purge cut off half way (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async (registry) => {
      await registerActiveClient(registry, ACME, 'jane@acme.example');
      const closing = new DeprovisionClientService({ registry, runtime: idleContainerRuntime(), targets: { unregister: async () => undefined } as never, guard: new ClientOperationGuard(), clock: { now: () => CLOSED_AT }, logger: createSilentLogger() });
      await closing.deprovision({ clientId: ACME, purge: false, actor: 'ops', reason: 'contract ended' });
    });
    let prometheus: PrometheusEmulator;
    beforeEach(async () => {
      prometheus = await startPrometheusEmulator({ series: seriesOf(ACME, OTHER) });
    });
    afterEach(() => prometheus.close());

    test('is finished by the next run: the series go and the purge is recorded once', async () => {
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: async () => undefined });
      assert.deepEqual(await retentionRun(dyingAfterRowDeletion(opened.registry), history), [], 'the first run died in the purge');
      assert.equal(await opened.registry.getClient(ACME), null, 'the row was deleted before the cut');
      assert.equal(prometheus.series.filter((series) => series['client'] === ACME).length, 2, 'the series were still to be deleted');

      assert.deepEqual(await retentionRun(opened.registry, history), [ACME]);
      assert.deepEqual(prometheus.series.filter((series) => series['client'] === ACME), []);
      assert.equal(prometheus.series.length, 2, "the other client's series stay");
      const purges = await opened.registry.listOpsLog({ actions: ['deprovision-purge'] });
      assert.deepEqual(
        purges.map((entry) => [entry.clientId, entry.actor, entry.outcome]),
        [[ACME, 'retention', 'started'], [ACME, 'retention', 'failed'], [ACME, 'retention', 'started'], [ACME, 'retention', 'success']],
        'each run recorded its start, the cut one its failure; the purge is done once',
      );
      const [closure] = await opened.registry.listOpsLog({ actions: ['deprovision'] });
      assert.match(purges.at(-1)?.reason ?? '', new RegExp(`closed ${closure?.at.slice(0, 10) ?? '?'}, kept 90 days`));

      assert.deepEqual(await retentionRun(opened.registry, history), [], 'nothing is purged twice');
    });
  });
}

describe('unfinished purges (pure)', () => {
  let seq = 0;
  const entry = (action: string, clientId: string, at: string, details: Record<string, unknown> = {}): OpsLogEntry => {
    seq += 1;
    return { seq, at, actor: 'ops', action, clientId, reason: null, outcome: action === 'erasure-request' ? 'pending' : 'success', details, prevHash: '', hash: '' };
  };

  test('only a closed client with no row, no recorded deletion and no open erasure request', () => {
    const at = CLOSED_AT.toISOString();
    const log = [
      entry('deprovision', 'cut', at),
      entry('deprovision', 'kept', at),
      entry('deprovision', 'done', at),
      entry('deprovision-purge', 'done', at),
      entry('deprovision', 'erasing', at),
      entry('erasure-request', 'erasing', at, { requestId: 'DSR-1', receivedAt: at }),
    ];
    assert.deepEqual(unfinishedPurges(closureDates(log), [{ id: parseClientId('kept') }], log), [{ clientId: 'cut', since: at }]);
  });
});
