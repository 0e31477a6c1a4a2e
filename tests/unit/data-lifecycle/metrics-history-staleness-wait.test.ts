// How long an erasure waits for the staleness markers of the client's ended scrape loop: Prometheus writes
// them two scrape ticks and a tenth after the loop stops, so the wait follows the target's own scrape
// interval (a fixed 75 s misses them with a one-minute interval and wastes time with a short one), and the
// targets are polled with backoff, from a short first pause, within a bounded total.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { PrometheusMetricsHistory, prometheusDurationMs } from '../../../orchestrator/src/adapters/prometheus/prometheus-metrics-history.ts';
import { startPrometheusEmulator, type PrometheusEmulator } from './prometheus-emulator.ts';

const ACME = parseClientId('acme');
const NOW = Date.parse('2026-12-10T12:00:00.000Z');

describe('the staleness wait of a metrics-history deletion', () => {
  let prometheus: PrometheusEmulator;
  afterEach(() => prometheus.close());

  /** A recently scraped client whose target Prometheus drops at the second poll; the markers land `markersAfterMs` after that. */
  async function forget(scrapeInterval: string, markersAfterMs: number) {
    prometheus = await startPrometheusEmulator({ series: [{ __name__: 'up', client: ACME, job: 'agents', __at: String(NOW - 5_000) }], scraped: [ACME], scrapeInterval });
    prometheus.onTargetsPoll = (poll) => {
      if (poll === 2) prometheus.scraped.delete(ACME);
    };
    let clock = NOW;
    const pauses: number[] = [];
    const sleep = async (ms: number) => {
      pauses.push(ms);
      const before = clock;
      clock += ms;
      // The ended loop's markers, written once the grace since the drop has run past them.
      if (before - NOW < markersAfterMs && clock - NOW >= markersAfterMs) prometheus.series.push({ __name__: 'up', client: ACME, job: 'agents', __at: String(NOW + markersAfterMs) });
    };
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep, now: () => clock }).forgetClient(ACME);
    return { result, pauses };
  }

  test('a one-minute scrape interval: the markers written 2.1 minutes after the drop are deleted, not left behind a "removed"', async () => {
    const { result, pauses } = await forget('1m', 126_000);
    assert.equal(result.outcome, 'removed', result.detail);
    assert.deepEqual(prometheus.series, []);
    assert.equal(pauses.at(-1), 150_000);
  });

  test('a ten-second scrape interval: the erasure waits 25 s, not 75 s', async () => {
    const { result, pauses } = await forget('10s', 21_000);
    assert.equal(result.outcome, 'removed', result.detail);
    assert.deepEqual(prometheus.series, []);
    assert.equal(pauses.at(-1), 25_000);
  });

  test('the targets are polled from a short first pause, doubling, within the bounded total', async () => {
    prometheus = await startPrometheusEmulator({ series: [], scraped: [ACME] });
    const pauses: number[] = [];
    const result = await new PrometheusMetricsHistory({ url: prometheus.url, sleep: async (ms) => void pauses.push(ms), targetGoneTimeoutMs: 10_000 }).forgetClient(ACME);
    assert.equal(result.outcome, 'failed', 'a target still scraped at the deadline keeps writing samples');
    assert.deepEqual(pauses.slice(0, 5), [200, 400, 800, 1_600, 2_000]);
    assert.equal(pauses.reduce((sum, ms) => sum + ms, 0), 10_000);
  });

  test('Prometheus durations', () => {
    assert.equal(prometheusDurationMs('1m30s'), 90_000);
    assert.equal(prometheusDurationMs('500ms'), 500);
    assert.equal(prometheusDurationMs('30'), null);
    assert.equal(prometheusDurationMs('-1s'), null);
  });
});
