// One client's report of an incident that concerns several: the text written for the whole incident
// (summary, notes, scope, root cause, remediation, lessons) may name the other clients and their people,
// so it is withheld unless the operator chooses to include it, and the ops log says which was rendered.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INCIDENT_ACTIONS } from '../../../orchestrator/src/services/incidents/incident-service.ts';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed, type IncidentBed } from './memory-incident-bed.ts';

const OTHER = 'Dana Whitfield of beta';

async function closedIncident(bed: IncidentBed, clients: string[]): Promise<string> {
  const { incident } = await bed.incidents.open({ severity: 'high', summary: `phishing sent from ${OTHER}'s mailbox`, clients, actor: 'ops' });
  await bed.incidents.note({ id: incident.id, text: `${OTHER} clicked the link`, assessment: true, actor: 'ops' });
  await bed.incidents.confirm({ id: incident.id, scope: `mail of ${OTHER} read`, actor: 'ops' });
  for (const clientId of clients) await bed.incidents.notify({ id: incident.id, clientId, channel: 'email', actor: 'ops' });
  await bed.incidents.close({ id: incident.id, rootCause: `${OTHER} reused a password`, lessons: `train ${OTHER}`, remediation: `reset ${OTHER}`, actor: 'ops' });
  return incident.id;
}

void test("a client's report of a multi-client incident withholds the text written for the whole incident", async () => {
  const bed = incidentBed();
  const id = await closedIncident(bed, ['acme', 'beta']);
  const report = await reportServiceOver(bed).render({ id, actor: 'ops', client: 'acme' });
  for (const body of [report.markdown, report.html]) {
    assert.doesNotMatch(body, /Dana Whitfield|beta/);
    assert.match(body, /Withheld from this client’s report/);
  }
  assert.match(report.markdown, /\| ops-log \| ops \| Assessment recorded \(text written for the whole incident withheld\) \|/);
  const logged = bed.registry.entries.filter((entry) => entry.action === INCIDENT_ACTIONS.report).at(-1);
  assert.equal(logged?.details['incidentText'], 'withheld');
});

void test('the operator can include the whole incident’s text in a client’s report, and the ops log says so', async () => {
  const bed = incidentBed();
  const id = await closedIncident(bed, ['acme', 'beta']);
  const report = await reportServiceOver(bed).render({ id, actor: 'ops', client: 'acme', includeIncidentText: true });
  assert.match(report.markdown, /\| Summary \| phishing sent from Dana Whitfield of beta's mailbox \|/);
  assert.match(report.markdown, /Dana Whitfield of beta reused a password/);
  assert.equal(bed.registry.entries.filter((entry) => entry.action === INCIDENT_ACTIONS.report).at(-1)?.details['incidentText'], 'shown');
});

void test("the report of a single client's incident shows its text as written", async () => {
  const bed = incidentBed();
  const id = await closedIncident(bed, ['acme']);
  const report = await reportServiceOver(bed).render({ id, actor: 'ops', client: 'acme' });
  assert.match(report.markdown, /Dana Whitfield of beta reused a password/);
  assert.doesNotMatch(report.markdown, /Withheld/);
});
