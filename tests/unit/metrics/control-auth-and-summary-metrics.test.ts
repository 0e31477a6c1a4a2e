import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  AgentMetrics,
  CONTROL_AUTH_REFUSAL_REASONS,
  CONTROL_ROUTE_FAMILIES,
  DAILY_SUMMARY_STAGES,
  type ControlRouteFamily,
  type DailySummaryStage,
} from '../../../agent-image/src/observability/agent-metrics.ts';

async function sampleOf(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const sample = metric?.values.find((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted));
  return sample?.value;
}

describe('control API refusal and daily summary failure counters', () => {
  test('every route family and reason, and every summary stage, is exported at 0 from the start', async () => {
    const registry = new Registry();
    new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    for (const route of CONTROL_ROUTE_FAMILIES) {
      for (const reason of CONTROL_AUTH_REFUSAL_REASONS) {
        assert.equal(await sampleOf(registry, 'agent_control_auth_refusals_total', { route, reason, client: 'acme' }), 0, `${route}/${reason}`);
      }
    }
    for (const stage of DAILY_SUMMARY_STAGES) assert.equal(await sampleOf(registry, 'agent_daily_digest_failures_total', { stage, client: 'acme' }), 0, stage);
  });

  test('counts refusals and summary failures under their own labels', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    metrics.controlAuthRefused('settings', 'wrong');
    metrics.controlAuthRefused('settings', 'wrong');
    metrics.controlAuthRefused('data_export', 'missing');
    metrics.dailySummaryFailed('render');
    assert.equal(await sampleOf(registry, 'agent_control_auth_refusals_total', { route: 'settings', reason: 'wrong' }), 2);
    assert.equal(await sampleOf(registry, 'agent_control_auth_refusals_total', { route: 'data_export', reason: 'missing' }), 1);
    assert.equal(await sampleOf(registry, 'agent_daily_digest_failures_total', { stage: 'render' }), 1);
    assert.equal(await sampleOf(registry, 'agent_daily_digest_failures_total', { stage: 'send' }), 0);
  });

  test('refuses a label value outside its set instead of adding a series', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    assert.throws(() => metrics.controlAuthRefused('/v1/anything' as ControlRouteFamily, 'wrong'), { code: 'invalid_input' });
    assert.throws(() => metrics.dailySummaryFailed('smtp' as DailySummaryStage), { code: 'invalid_input' });
    const refusals = (await registry.getMetricsAsJSON()).find((entry) => entry.name === 'agent_control_auth_refusals_total');
    assert.equal(refusals?.values.length, CONTROL_ROUTE_FAMILIES.length * CONTROL_AUTH_REFUSAL_REASONS.length);
  });
});
