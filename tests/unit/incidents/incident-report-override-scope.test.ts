// An incident of two clients closed with a containment override because one client's kill never held: each
// client's report says only what concerns it. The override's list of steps that never held names clients
// and what was done to them; it is not the text written for the whole incident, so including that text in
// a client's report does not bring the other client's failed steps with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IncidentContainmentStep } from '../../../orchestrator/src/ports/incident-store.ts';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed, type IncidentBed } from './memory-incident-bed.ts';

async function closedWithBetaUncontained(bed: IncidentBed): Promise<string> {
  const { incident } = await bed.incidents.open({
    severity: 'critical',
    summary: 'odd sends',
    clients: ['acme', 'beta'],
    actor: 'ops',
  });
  const step = (clientId: string, outcome: IncidentContainmentStep['outcome']): IncidentContainmentStep => ({
    clientId,
    step: 'kill',
    at: bed.clock.now().toISOString(),
    by: 'ops',
    outcome,
    detail: outcome === 'success' ? 'killed' : 'the container did not stop',
  });
  await bed.store.update(incident.id, (current) => ({
    ...current,
    containment: [step('acme', 'success'), step('beta', 'failed')],
  }));
  await bed.incidents.close({
    id: incident.id,
    rootCause: 'a leaked token',
    lessons: 'rotate monthly',
    containmentOverride: 'the host was wiped',
    actor: 'ops',
  });
  return incident.id;
}

void test("a client's report, with the incident's text included, does not list another client's steps that never held", async () => {
  const bed = incidentBed();
  const id = await closedWithBetaUncontained(bed);
  const report = await reportServiceOver(bed).render({
    id,
    actor: 'ops',
    client: 'acme',
    includeIncidentText: true,
  });
  for (const body of [report.markdown, report.html])
    assert.doesNotMatch(body, /beta/, 'nothing of beta in acme’s report');
  assert.match(report.markdown, /\| ops-log \| ops \| Closed\. Root cause: a leaked token \|/);
});

void test("a client's report withholding the incident's text does not say the incident was closed over its containment when its own held", async () => {
  const bed = incidentBed();
  const id = await closedWithBetaUncontained(bed);
  const acme = await reportServiceOver(bed).render({ id, actor: 'ops', client: 'acme' });
  assert.doesNotMatch(acme.markdown, /containment override/);
  const beta = await reportServiceOver(bed).render({ id, actor: 'ops', client: 'beta' });
  assert.match(
    beta.markdown,
    /Closed with a containment override \(text written for the whole incident withheld\)/,
  );
});

void test('the whole report lists every step that never held, and why it was closed anyway', async () => {
  const bed = incidentBed();
  const id = await closedWithBetaUncontained(bed);
  const report = await reportServiceOver(bed).render({ id, actor: 'ops' });
  assert.match(
    report.markdown,
    /Closed although containment never held \(beta kill\); override: the host was wiped\. Root cause: a leaked token/,
  );
});
