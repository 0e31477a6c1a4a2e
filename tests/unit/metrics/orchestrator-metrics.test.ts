// The orchestrator's per-client gauges: which clients must be scrape targets (AgentTargetsMissing matches
// them client by client), and no series for a closed client, however many the registry keeps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry as MetricsRegistry } from 'prom-client';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import { createOrchestratorMetrics } from '../../../orchestrator/src/observability/metrics.ts';
import type { ClientRecord } from '../../../orchestrator/src/ports/registry.ts';

const client = (id: string, status: ClientStatus) => ({ id: id as ClientId, status }) as ClientRecord;

void describe('orchestrator client gauges', () => {
  const clients = [
    client('acme', 'active'),
    client('beta', 'killed'),
    ...Array.from({ length: 300 }, (_, index) => client(`gone-${index}`, 'deprovisioned')),
  ];
  const scrape = async () => {
    const registry = new MetricsRegistry();
    createOrchestratorMetrics(registry, async () => clients);
    return registry.metrics();
  };

  void it('fleet_client_status names each current client with its status', async () => {
    const lines = (await scrape()).split('\n').filter((line) => line.startsWith('fleet_client_status{'));
    assert.deepEqual(lines.sort(), ['fleet_client_status{client="acme",status="active"} 1', 'fleet_client_status{client="beta",status="killed"} 1']);
  });

  void it('a closed client leaves no series behind in the per-client gauges', async () => {
    const text = await scrape();
    assert.doesNotMatch(text, /client="gone-/);
    assert.deepEqual(
      text.split('\n').filter((line) => line.startsWith('fleet_client_killed{')).sort(),
      ['fleet_client_killed{client="acme"} 0', 'fleet_client_killed{client="beta"} 1'],
    );
    // The fleet-wide count still has them.
    assert.match(text, /^fleet_clients\{status="deprovisioned"\} 300$/m);
  });
});
