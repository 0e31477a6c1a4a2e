// A purge that failed part way leaves a client's data half deleted until the daily retention run finishes
// it. The ops log says so (a `deprovision-purge` entry with outcome `failed`); the orchestrator's gauge
// fleet_retention_purge_failures counts each such purge's failed attempts, so RetentionPurgeFailing tells
// on-call instead of leaving it to someone reading the ops log.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import { PURGE_ACTION } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { registerDataLifecycleMetrics } from '../../../orchestrator/src/observability/data-lifecycle-metrics.ts';
import { failingPurges } from '../../../orchestrator/src/services/enforce-retention.ts';

let seq = 0;
function entry(action: string, clientId: string, outcome: string): OpsLogEntry {
  seq += 1;
  const at = new Date(Date.UTC(2026, 11, 1, 0, seq)).toISOString();
  return { seq, at, actor: 'retention', action, clientId, reason: null, outcome, details: {}, prevHash: '', hash: '' };
}

describe('failing purges', () => {
  test('a purge whose last attempt failed is failing, with its failed attempts counted', () => {
    const log = [
      entry('deprovision', 'gone', 'success'),
      entry(PURGE_ACTION, 'gone', 'started'),
      entry(PURGE_ACTION, 'gone', 'failed'),
      entry(PURGE_ACTION, 'gone', 'started'),
      entry(PURGE_ACTION, 'gone', 'failed'),
    ];
    assert.deepEqual(failingPurges(log), [{ clientId: 'gone', failures: 2 }]);
  });

  test('a purge finished at last, a client provisioned again, or one never failed is not failing', () => {
    const finished = [entry(PURGE_ACTION, 'a', 'started'), entry(PURGE_ACTION, 'a', 'failed'), entry(PURGE_ACTION, 'a', 'started'), entry(PURGE_ACTION, 'a', 'success')];
    const revived = [entry(PURGE_ACTION, 'b', 'started'), entry(PURGE_ACTION, 'b', 'failed'), entry('provision', 'b', 'success')];
    const running = [entry(PURGE_ACTION, 'c', 'started')];
    assert.deepEqual(failingPurges([...finished, ...revived, ...running]), []);
  });

  test('the gauge has one series per failing purge, and none once it is finished', async () => {
    let failing = [{ clientId: 'gone', failures: 3 }];
    const metrics = new MetricsRegistry();
    registerDataLifecycleMetrics(metrics, { listClients: async () => [], listBackups: async () => [], openErasureRequests: async () => [], failingPurges: async () => failing });
    assert.match(await metrics.metrics(), /^fleet_retention_purge_failures\{client="gone"\} 3$/m);
    failing = [];
    assert.doesNotMatch(await metrics.metrics(), /^fleet_retention_purge_failures\{/m);
  });
});
