// An erased client's time series (its `client` label ties its mail activity to it) are deleted from
// Prometheus, and the deletion certificate says what happened to them: removed, not configured, or failed,
// never a silent skip and never "removed" while series are left.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { PrometheusMetricsHistory } from '../../../orchestrator/src/adapters/prometheus/prometheus-metrics-history.ts';
import type { MetricsHistory } from '../../../orchestrator/src/ports/metrics-history.ts';
import { EraseClientService, type EraseOutcome } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { containerOnlyKill, erasureStandIns, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { seriesOf, startPrometheusEmulator, type PrometheusEmulator } from './prometheus-emulator.ts';

const ACME = parseClientId('acme');
const OTHER = parseClientId('acme-two');
const noWait = async () => undefined;

describe('PrometheusMetricsHistory against a loopback Prometheus', () => {
  let prometheus: PrometheusEmulator;
  afterEach(() => prometheus.close());

  test("deletes the client's series over all time and leaves other clients' (even one whose id starts the same)", async () => {
    prometheus = await startPrometheusEmulator({ series: seriesOf(ACME, OTHER) });
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait }).forgetClient(ACME);
    assert.equal(result.outcome, 'removed');
    assert.equal(result.outcome === 'removed' && result.series, 2);
    assert.deepEqual(prometheus.series.map((series) => series['client']), [OTHER, OTHER]);
    assert.ok(prometheus.requests.includes('POST /api/v1/admin/tsdb/clean_tombstones'), 'the deleted data is removed from disk, not only hidden');
  });

  test('waits for Prometheus to drop the agent target before deleting, so no fresh sample outlives the erasure', async () => {
    prometheus = await startPrometheusEmulator({ series: seriesOf(ACME), scraped: [ACME] });
    prometheus.onTargetsPoll = (poll) => {
      if (poll === 3) prometheus.scraped.delete(ACME);
    };
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait, pollIntervalMs: 1, targetGoneTimeoutMs: 10 }).forgetClient(ACME);
    assert.equal(result.outcome, 'removed');
    assert.deepEqual(prometheus.series, []);
  });

  test("the staleness markers an ended scrape loop writes after the deletion are deleted too", async () => {
    const now = Date.parse('2026-12-10T12:00:00.000Z');
    prometheus = await startPrometheusEmulator({ series: [{ __name__: 'up', client: ACME, job: 'agents', __at: String(now - 10_000) }] });
    const waited: number[] = [];
    const sleep = async (ms: number) => {
      waited.push(ms);
      // The loop of the removed target ends: its last series get a stale marker, after the first deletion.
      prometheus.series.push({ __name__: 'up', client: ACME, job: 'agents', __at: String(now + ms) });
    };
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep, now: () => now, stalenessGraceMs: 75_000 }).forgetClient(ACME);
    assert.equal(result.outcome, 'removed', result.detail);
    assert.deepEqual(waited, [75_000]);
    assert.deepEqual(prometheus.series, []);
  });

  test('series last written long ago (a client killed weeks before) are deleted without waiting', async () => {
    prometheus = await startPrometheusEmulator({ series: seriesOf(ACME) });
    const waited: number[] = [];
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: async (ms) => void waited.push(ms) }).forgetClient(ACME);
    assert.equal(result.outcome, 'removed');
    assert.deepEqual(waited, []);
  });

  test('a target Prometheus keeps scraping: failed, not removed, because new samples keep coming', async () => {
    prometheus = await startPrometheusEmulator({ series: seriesOf(ACME), scraped: [ACME] });
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait, pollIntervalMs: 1, targetGoneTimeoutMs: 3 }).forgetClient(ACME);
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /still scrapes a target labelled client="acme"/);
  });

  test('the admin API disabled: failed, naming the flag to start Prometheus with', async () => {
    prometheus = await startPrometheusEmulator({ series: seriesOf(ACME), adminApi: false });
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait }).forgetClient(ACME);
    assert.equal(result.outcome, 'failed');
    assert.match(result.detail, /503.*admin APIs disabled.*--web\.enable-admin-api/);
    assert.equal(prometheus.series.length, 2);
  });

  test('Prometheus down: failed, not thrown', async () => {
    prometheus = await startPrometheusEmulator({ series: [] });
    const url = prometheus.url;
    await prometheus.close();
    prometheus = await startPrometheusEmulator({ series: [] });
    const result = await new PrometheusMetricsHistory({ url, sleep: noWait, timeoutMs: 2_000 }).forgetClient(ACME);
    assert.equal(result.outcome, 'failed');
  });
});

function standIns(opened: OpenedRegistry, metricsHistory: MetricsHistory | undefined, ownMetrics?: { forgetClient(clientId: ClientId): void }) {
  const now = () => new Date('2026-12-10T12:00:00.000Z');
  return new EraseClientService({
    ...erasureStandIns(opened.registry, ACME),
    kill: containerOnlyKill(ACME),
    metricsHistory,
    ownMetrics,
    clock: { now },
  });
}

function metricsStep(outcome: EraseOutcome) {
  assert.equal(outcome.outcome, 'erased');
  return outcome.outcome === 'erased' ? outcome.certificate.steps.find((step) => step.what === 'metrics-history') : undefined;
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`the deletion certificate on the metrics history (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, (registry) => registerActiveClient(registry, ACME, 'jane@acme.example'));
    let prometheus: PrometheusEmulator | undefined;
    afterEach(async () => {
      await prometheus?.close();
      prometheus = undefined;
    });

    test("an erasure deletes the client's series from Prometheus and certifies them removed", async () => {
      prometheus = await startPrometheusEmulator({ series: seriesOf(ACME, OTHER) });
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      const step = metricsStep(await standIns(opened, history).erase({ clientId: ACME, requestId: 'DSR-1', actor: 'ops' }));
      assert.equal(step?.outcome, 'removed');
      assert.equal(prometheus.series.filter((series) => series['client'] === ACME).length, 0, 'nothing labelled with the client is left');
    });

    test("while its series are deleted, the orchestrator's own series of the client are not exposed to be scraped back", async () => {
      const seen: { reported: string[]; ownForgotten: string[] } = { reported: [], ownForgotten: [] };
      let service: EraseClientService | null = null;
      const history: MetricsHistory = {
        forgetClient: async () => {
          seen.reported = (await service?.reportedOpenRequests() ?? []).map((request) => request.clientId);
          return { outcome: 'removed', series: 3, detail: 'deleted' };
        },
      };
      service = standIns(opened, history, { forgetClient: (clientId) => seen.ownForgotten.push(clientId) });
      await service.recordRequest({ clientId: ACME, requestId: 'DSR-4', actor: 'ops' });
      assert.deepEqual((await service.reportedOpenRequests()).map((request) => request.requestId), ['DSR-4'], 'shown while it waits');
      metricsStep(await service.erase({ clientId: ACME, requestId: 'DSR-4', actor: 'ops' }));
      assert.deepEqual(seen.reported, [], 'the deadline gauge, labelled with the client, left out during the deletion');
      assert.deepEqual(seen.ownForgotten, [ACME], "the orchestrator's per-client counters dropped first");
    });

    test('an erasure that fails after hiding its request shows it again, so its deadline alert still fires', async () => {
      const history: MetricsHistory = { forgetClient: () => Promise.reject(new Error('adapter broke its contract')) };
      const service = standIns(opened, history);
      await assert.rejects(service.erase({ clientId: ACME, requestId: 'DSR-5', actor: 'ops' }), /contract/);
      assert.deepEqual((await service.reportedOpenRequests()).map((request) => request.requestId), ['DSR-5']);
    });

    test('no Prometheus configured: the certificate says so, and how to delete the series by hand', async () => {
      const step = metricsStep(await standIns(opened, undefined).erase({ clientId: ACME, requestId: 'DSR-2', actor: 'ops' }));
      assert.equal(step?.outcome, 'not-configured');
      assert.match(step?.detail ?? '', /client="acme"/);
    });

    test('a failed deletion is certified as failed, never as removed', async () => {
      prometheus = await startPrometheusEmulator({ series: seriesOf(ACME), adminApi: false });
      const history = new PrometheusMetricsHistory({ url: prometheus.url, sleep: noWait });
      const step = metricsStep(await standIns(opened, history).erase({ clientId: ACME, requestId: 'DSR-3', actor: 'ops' }));
      assert.equal(step?.outcome, 'failed');
      assert.match(step?.detail ?? '', /--web\.enable-admin-api/);
    });
  });
}
