// Requests from a source on no client's network are counted under client="unknown". Prometheus's
// increase() sees a first refusal only when the series was exported at 0 before it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createEgressMetrics, EGRESS_UNKNOWN_CLIENT } from '../../../orchestrator/src/observability/metrics.ts';

describe('egress refusals of sources on no client network', () => {
  test('the unknown-source refusal series is exported at 0 before the first refusal', async () => {
    const registry = new Registry();
    createEgressMetrics(registry);
    assert.match(await registry.metrics(), new RegExp(`^fleet_egress_refused_total\\{client="${EGRESS_UNKNOWN_CLIENT}"\\} 0$`, 'm'));
  });

  test('a refusal of an unknown source counts on that series', async () => {
    const registry = new Registry();
    const counters = createEgressMetrics(registry);
    counters.refused.inc({ client: EGRESS_UNKNOWN_CLIENT });
    assert.match(await registry.metrics(), new RegExp(`^fleet_egress_refused_total\\{client="${EGRESS_UNKNOWN_CLIENT}"\\} 1$`, 'm'));
  });
});
