// An erasure drops the client's egress counters from the orchestrator's registry: each scrape would
// otherwise write the erased client's label back into Prometheus after its series were deleted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { createEgressMetrics, forgetEgressClient } from '../../../orchestrator/src/observability/metrics.ts';

describe('forgetting a client in the egress counters', () => {
  test('removes that client from every counter and leaves every other client', async () => {
    const registry = new Registry();
    const counters = createEgressMetrics(registry);
    for (const client of ['acme', 'acme-two']) {
      counters.refused.inc({ client });
      counters.tunnels.inc({ client }, 3);
      counters.upstreamFailures.inc({ client }, 2);
    }
    forgetEgressClient(registry, 'acme');
    const exposed = await registry.metrics();
    assert.doesNotMatch(exposed, /client="acme"/);
    assert.match(exposed, /fleet_egress_refused_total\{client="acme-two"\} 1/);
    assert.match(exposed, /fleet_egress_tunnels_total\{client="acme-two"\} 3/);
    assert.match(exposed, /fleet_egress_upstream_failures_total\{client="acme-two"\} 2/);
  });

  test('is harmless on a registry without the egress counters (proxy off)', () => {
    assert.doesNotThrow(() => forgetEgressClient(new Registry(), 'acme'));
  });
});
