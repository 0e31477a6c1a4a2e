// A purge at the end of the retention period deletes the client's series from Prometheus as an erasure
// does (the same step), and a deletion that failed (Prometheus down, its admin API off) is tried again by the
// retention run until it succeeds, the ops log saying when; a client made again under the id is left alone.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import type { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { PrometheusMetricsHistory } from '../../../orchestrator/src/adapters/prometheus/prometheus-metrics-history.ts';
import type { MetricsHistory } from '../../../orchestrator/src/ports/metrics-history.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { enforceRetention } from '../../../orchestrator/src/services/enforce-retention.ts';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { METRICS_HISTORY_RETRY_ACTION, pendingMetricsDeletions } from '../../../orchestrator/src/services/erasure/metrics-history-retry.ts';
import { containerOnlyKill, erasureStandIns, idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { seriesOf, startPrometheusEmulator, type PrometheusEmulator } from './prometheus-emulator.ts';

const ACME = parseClientId('acme');
const OTHER = parseClientId('acme-two');
const NOW = new Date('2026-12-10T02:30:00.000Z');
const noWait = async () => undefined;

function deprovisioning(opened: OpenedRegistry, metricsHistory: MetricsHistory | undefined, guard = new ClientOperationGuard()) {
  return new DeprovisionClientService({
    registry: opened.registry,
    runtime: idleContainerRuntime(),
    targets: { unregister: async () => undefined } as never,
    guard,
    clock: { now: () => NOW },
    logger: createSilentLogger(),
    metricsHistory,
  });
}

function retention(opened: OpenedRegistry, metricsHistory: MetricsHistory | undefined, now = NOW, guard = new ClientOperationGuard()) {
  return enforceRetention({
    registry: opened.registry,
    deprovision: deprovisioning(opened, metricsHistory, guard),
    clock: { now: () => now },
    logger: createSilentLogger(),
    retentionDays: 90,
    metricsHistory,
    guard,
  });
}

const acmeSeries = (prometheus: PrometheusEmulator) => prometheus.series.filter((series) => series['client'] === ACME);
const retries = async (opened: OpenedRegistry) => opened.registry.listOpsLog({ actions: [METRICS_HISTORY_RETRY_ACTION] });

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a purge and the metrics history (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));
    let prometheus: PrometheusEmulator;
    beforeEach(async () => {
      prometheus = await startPrometheusEmulator({ series: seriesOf(ACME, OTHER) });
    });
    afterEach(() => prometheus.close());

    test("a purge deletes the client's series from Prometheus and ops-logs that it did", async () => {
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      await deprovisioning(opened, history).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      assert.deepEqual(acmeSeries(prometheus), []);
      assert.equal(prometheus.series.length, 2, "the other client's series stay");
      const purge = (await opened.registry.listOpsLog({ actions: ['deprovision-purge'] })).find((entry) => entry.outcome === 'success');
      assert.equal((purge?.details['steps'] as Array<{ outcome: string }> | undefined)?.[0]?.outcome, 'removed');
    });

    test('a purge whose deletion failed is tried again by the next retention run, which records when it succeeded', async () => {
      prometheus.adminApi = false;
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      await deprovisioning(opened, history).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      assert.equal(acmeSeries(prometheus).length, 2, 'Prometheus refused the deletion');

      await retention(opened, history);
      assert.equal(acmeSeries(prometheus).length, 2);
      assert.deepEqual((await retries(opened)).map((entry) => entry.outcome), ['failed'], 'each attempt is on the record');

      prometheus.adminApi = true;
      const later = new Date(NOW.getTime() + 86_400_000);
      await retention(opened, history, later);
      assert.deepEqual(acmeSeries(prometheus), []);
      const done = (await retries(opened)).at(-1) as OpsLogEntry;
      assert.equal(done.outcome, 'success');
      assert.equal(done.details['completedAt'], later.toISOString());
      assert.equal(done.details['deletionAction'], 'deprovision-purge');

      const requests = prometheus.requests.length;
      await retention(opened, history, later);
      assert.equal(prometheus.requests.length, requests, 'nothing left to retry');
    });

    test("an erasure whose deletion failed is finished by the retention run", async () => {
      prometheus.adminApi = false;
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      const erasure = new EraseClientService({
        ...erasureStandIns(opened.registry, ACME),
        kill: containerOnlyKill(ACME),
        metricsHistory: history,
        clock: { now: () => NOW },
      });
      const erased = await erasure.erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' });
      assert.equal(erased.outcome === 'erased' && erased.certificate.steps.find((step) => step.what === 'metrics-history')?.outcome, 'failed');
      prometheus.adminApi = true;
      await retention(opened, history);
      assert.deepEqual(acmeSeries(prometheus), []);
      assert.equal((await retries(opened))[0]?.details['deletionAction'], 'erase');
    });

    test('a client provisioned again under the id is not touched by a retry of its predecessor', async () => {
      prometheus.adminApi = false;
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      await deprovisioning(opened, history).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      prometheus.adminApi = true;
      await registerActiveClient(opened.registry, ACME, 'new@acme.example');
      await retention(opened, history);
      assert.equal(acmeSeries(prometheus).length, 2, 'the label names the new client now');
      assert.deepEqual(await retries(opened), []);
    });

    test('a client provisioned under the id while a retry deletes keeps its fresh series: its claim is refused while the retry holds the id', async () => {
      prometheus.adminApi = false;
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      await deprovisioning(opened, history).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      prometheus.adminApi = true;
      const guard = new ClientOperationGuard();
      // Provisioning claims the id under the guard (provision-client.ts), then its agent is scraped.
      const provisionAgain = () =>
        guard.exclusive(ACME, 'provisioning', async () => {
          await registerActiveClient(opened.registry, ACME, 'new@acme.example');
          prometheus.series.push(...seriesOf(ACME));
        });
      let claim: Promise<unknown> = Promise.resolve();
      // The provisioning arrives after the retry checked the registry, just before it deletes.
      const racing: MetricsHistory = {
        forgetClient: async (clientId) => {
          claim = provisionAgain().catch((error: unknown) => error);
          await claim;
          return history.forgetClient(clientId);
        },
      };
      await retention(opened, racing, NOW, guard);
      const refused = await claim;
      if ((await opened.registry.getClient(ACME)) !== null) {
        assert.equal(acmeSeries(prometheus).length, 2, 'the new client keeps the series it was scraped into');
      } else {
        assert.equal((refused as FleetError).code, 'busy', 'the provisioning was told the id is busy');
        assert.deepEqual(acmeSeries(prometheus), [], "the deleted client's series are gone");
      }
      await provisionAgain();
      await retention(opened, history, NOW, guard);
      assert.equal(acmeSeries(prometheus).length, 2, 'a retry never deletes a client that is in the registry');
    });

    test('a retry whose id another operation holds is left for the next run', async () => {
      prometheus.adminApi = false;
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      await deprovisioning(opened, history).deprovision({ clientId: ACME, purge: true, actor: 'retention' });
      prometheus.adminApi = true;
      const guard = new ClientOperationGuard();
      let release = (): void => undefined;
      const held = guard.exclusive(ACME, 'provisioning', () => new Promise<void>((resolve) => (release = resolve)));
      await retention(opened, history, NOW, guard);
      assert.equal(acmeSeries(prometheus).length, 2, 'left while held');
      assert.deepEqual(await retries(opened), []);
      release();
      await held;
      await retention(opened, history, NOW, guard);
      assert.deepEqual(acmeSeries(prometheus), []);
    });
  });
}

describe('pending metrics-history deletions (pure)', () => {
  let seq = 0;
  const entry = (action: string, clientId: ClientId, details: Record<string, unknown> = {}, outcome = 'success'): OpsLogEntry => {
    seq += 1;
    return { seq, at: NOW.toISOString(), actor: 'ops', action, clientId, reason: null, outcome, details, prevHash: '', hash: '' };
  };
  const failedPurge = () => entry('deprovision-purge', ACME, { steps: [{ what: 'metrics-history', outcome: 'failed', detail: 'down' }] });

  test('a failed deletion is pending until a retry succeeds; a failed retry leaves it pending', () => {
    assert.deepEqual(pendingMetricsDeletions([failedPurge()]).map((pending) => pending.clientId), [ACME]);
    assert.equal(pendingMetricsDeletions([failedPurge(), entry(METRICS_HISTORY_RETRY_ACTION, ACME, {}, 'failed')]).length, 1);
    assert.equal(pendingMetricsDeletions([failedPurge(), entry(METRICS_HISTORY_RETRY_ACTION, ACME)]).length, 0);
  });

  test('a provisioning under the id since ends it; a later successful deletion replaces it', () => {
    assert.equal(pendingMetricsDeletions([failedPurge(), entry('provision', ACME)]).length, 0);
    const removed = entry('erase', ACME, { certificate: { steps: [{ what: 'metrics-history', outcome: 'removed', detail: '' }] } });
    assert.equal(pendingMetricsDeletions([failedPurge(), removed]).length, 0);
  });
});
