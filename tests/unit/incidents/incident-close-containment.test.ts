// An incident whose containment failed and never held (a kill that did not stop the container) could be
// closed like any other, leaving a possibly compromised client with no trace that anyone chose to stop
// there. Closing it now needs an explicit override with a reason, kept in its record, the ops log and the
// report; without one the refusal says why and what to do.
import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EXIT_CODES } from '../../../orchestrator/src/cli/exit-codes.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { IncidentContainmentService } from '../../../orchestrator/src/services/incidents/incident-containment.ts';
import { INCIDENT_ACTIONS } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import type { KillResult } from '../../../orchestrator/src/services/kill-client.ts';
import { runFleetCliWithEnv } from '../../helpers/fleet-cli.ts';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed, type IncidentBed } from './memory-incident-bed.ts';

const CLOSURE = { rootCause: 'a leaked app password', lessons: 'rotate app passwords monthly' };

/** Containment whose kill stops the container only when `stops()` says so. */
function containment(bed: IncidentBed, stops: () => boolean): IncidentContainmentService {
  return new IncidentContainmentService({
    incidents: bed.incidents,
    registry: bed.registry as unknown as Registry,
    clock: bed.clock,
    logger: createSilentLogger(),
    kill: {
      kill: (request): Promise<KillResult> =>
        Promise.resolve({ clientId: request.clientId as ClientId, alreadyKilled: false, revokedTokens: 1, agentNotified: true, containerStopped: stops(), durationMs: 1 }),
    },
    rotate: { rotate: () => Promise.reject(new Error('not asked for')) },
    oauth: { revoke: () => Promise.reject(new Error('not asked for')) },
  });
}

async function failedKill(bed: IncidentBed, clients: string[]): Promise<string> {
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'sends after hours', clients, actor: 'ops' });
  const result = await containment(bed, () => false).contain({ id: incident.id, steps: ['kill'], clientId: 'acme', actor: 'ops' });
  assert.equal(result.steps[0]?.outcome, 'failed');
  return incident.id;
}

void test('an incident whose containment failed and never held is not closed without an override, and the refusal says why', async () => {
  const bed = incidentBed();
  const id = await failedKill(bed, ['acme']);
  await assert.rejects(
    bed.incidents.close({ id, ...CLOSURE, actor: 'ops' }),
    (error: unknown) => isFleetError(error) && error.code === 'conflict' && /containment failed and never held \(acme kill\)/.test(error.message) && /--containment-override/.test(error.message),
  );
  assert.equal((await bed.incidents.require(id)).status, 'open');
  assert.equal(bed.registry.entries.filter((entry) => entry.action === INCIDENT_ACTIONS.close).length, 0);
});

void test('an override with a reason closes it, and the record, the ops log and the report keep the reason', async () => {
  const bed = incidentBed();
  const id = await failedKill(bed, ['acme']);
  const reason = 'the host was powered off by the provider; confirmed by ticket';
  const { incident } = await bed.incidents.close({ id, ...CLOSURE, containmentOverride: reason, actor: 'lead' });
  assert.equal(incident.status, 'closed');
  assert.deepEqual(incident.containmentOverride, { reason, by: 'lead', at: bed.clock.now().toISOString(), unheld: ['acme kill'] });
  const logged = bed.registry.entries.find((entry) => entry.action === INCIDENT_ACTIONS.close);
  assert.deepEqual(logged?.details['containmentOverride'], { reason, unheld: ['acme kill'] });
  const report = await reportServiceOver(bed).render({ id, actor: 'lead' });
  assert.match(report.markdown, /\| Contained \| never held \(acme kill\); closed .* by lead with a containment override: the host was powered off/);
  assert.match(report.markdown, /Closed although containment never held \(acme kill\); override: the host was powered off/);
  assert.match(report.html, /with a containment override: the host was powered off/);
});

void test('a blank override reason is refused, by the service and by the CLI before the service is asked', async () => {
  const bed = incidentBed();
  const id = await failedKill(bed, ['acme']);
  await assert.rejects(bed.incidents.close({ id, ...CLOSURE, containmentOverride: '   ', actor: 'ops' }), (error: unknown) => isFleetError(error) && error.code === 'invalid_input');
  const cli = await runFleetCliWithEnv(
    { AGENT_FLEET_HOME: os.tmpdir(), ORCHESTRATOR_PORT: 'not-a-port' },
    'incident',
    'close',
    'INC-7',
    '--root-cause',
    'x',
    '--lessons',
    'y',
    '--containment-override',
    ' ',
  );
  assert.equal(cli.code, EXIT_CODES.invalid_input, cli.err);
  assert.match(cli.err, /^fleet: --containment-override needs the reason/);
});

void test('a step that failed and later held needs no override; an override given anyway is not recorded', async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
  let attempts = 0;
  const service = containment(bed, () => ++attempts > 1);
  await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  await service.contain({ id: incident.id, steps: ['kill'], actor: 'ops' });
  const closed = await bed.incidents.close({ id: incident.id, ...CLOSURE, containmentOverride: 'not needed', actor: 'ops' });
  assert.equal(closed.incident.status, 'closed');
  assert.equal(closed.incident.containmentOverride ?? null, null);
});

void test("one client's report of a multi-client incident shows the override only for its own unheld steps", async () => {
  const bed = incidentBed();
  const id = await failedKill(bed, ['acme', 'beta']);
  await bed.incidents.close({ id, ...CLOSURE, containmentOverride: 'acme host decommissioned', actor: 'lead' });
  const forBeta = await reportServiceOver(bed).render({ id, actor: 'lead', client: 'beta' });
  assert.doesNotMatch(forBeta.markdown, /never held|acme/);
  const forAcme = await reportServiceOver(bed).render({ id, actor: 'lead', client: 'acme' });
  assert.match(forAcme.markdown, /\| Contained \| never held \(acme kill\); .* containment override: Withheld from this client’s report/);
});
