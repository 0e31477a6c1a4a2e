// Containment through the fleet's services: what reason each client's kill records, and steps that were
// running when another operator closed the incident are still in its record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { IncidentContainmentService } from '../../../orchestrator/src/services/incidents/incident-containment.ts';
import type { KillRequest, KillResult } from '../../../orchestrator/src/services/kill-client.ts';
import { incidentBed, type IncidentBed } from './memory-incident-bed.ts';

function containmentOf(bed: IncidentBed, onKill: (request: KillRequest) => Promise<void> = () => Promise.resolve()) {
  const kills: KillRequest[] = [];
  const service = new IncidentContainmentService({
    incidents: bed.incidents,
    registry: bed.registry as unknown as Registry,
    clock: bed.clock,
    logger: createSilentLogger(),
    kill: {
      async kill(request): Promise<KillResult> {
        kills.push(request);
        await onKill(request);
        return { clientId: request.clientId as ClientId, alreadyKilled: false, revokedTokens: 1, agentNotified: true, containerStopped: true, durationMs: 1 };
      },
    },
    rotate: { rotate: () => Promise.reject(new Error('not asked for')) },
    oauth: { revoke: () => Promise.reject(new Error('not asked for')) },
  });
  return { service, kills };
}

const SUMMARY = 'beta forwarded mail of Dana Whitfield to an outside address';

void test("each client's kill of a multi-client incident records a reason that does not carry the incident's summary", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: SUMMARY, clients: ['acme', 'beta'], actor: 'ops' });
  const { service, kills } = containmentOf(bed);
  await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  assert.deepEqual(kills.map((kill) => kill.clientId), ['acme', 'beta']);
  for (const kill of kills) assert.equal(kill.reason, `${incident.id}: containment of a critical-severity incident`);
  const acmeEntries = bed.registry.entries.filter((entry) => entry.clientId === 'acme');
  assert.doesNotMatch(JSON.stringify(acmeEntries), /Dana Whitfield/);
});

void test("a single client's incident gives its kill the incident's summary as the reason", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: SUMMARY, clients: ['acme'], actor: 'ops' });
  const { service, kills } = containmentOf(bed);
  await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  assert.equal(kills[0]?.reason, `${incident.id}: ${SUMMARY}`);
});

void test('steps running when another operator closes the incident are recorded in it, and it stays closed', async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
  const { service } = containmentOf(bed, async () => {
    await bed.incidents.close({ id: incident.id, rootCause: 'a misread rule', lessons: 'review rules weekly', actor: 'night-ops' });
  });
  const result = await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  assert.deepEqual(result.steps.map((step) => [step.clientId, step.step, step.outcome]), [['acme', 'kill', 'success']]);
  const stored = await bed.incidents.require(incident.id);
  assert.equal(stored.status, 'closed');
  assert.equal(stored.containedAt, null);
  assert.deepEqual(stored.containment.map((step) => [step.clientId, step.step, step.outcome]), [['acme', 'kill', 'success']]);
});
