// The first final report of an incident stopped its report clock, whoever it was for: in an incident of
// several clients, one client's report (or the whole report, which names them all and goes to none of them)
// left the others owed theirs with no clock, no metric and no alert. The clock now stops when every affected
// client has had its final report. And the metrics scrape read every incident ever opened; it now asks the
// store for the incidents whose clocks can still run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { createIncidentResponse } from '../../../orchestrator/src/services/incidents/incident-response.ts';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed, type IncidentBed } from './memory-incident-bed.ts';

const CLOSURE = { rootCause: 'a reused password', lessons: 'enforce unique passwords' };

async function closed(bed: IncidentBed, clients: string[]): Promise<string> {
  const { incident } = await bed.incidents.open({ severity: 'medium', summary: 'phishing wave', clients, actor: 'ops' });
  await bed.incidents.close({ id: incident.id, ...CLOSURE, actor: 'ops' });
  return incident.id;
}

const reportClock = async (bed: IncidentBed, id: string) => (await bed.incidents.get(id)).clocks.find((clock) => clock.name === 'report');

void test('the report clock of a multi-client incident runs until every client has had its final report', async () => {
  const bed = incidentBed();
  const id = await closed(bed, ['acme', 'beta']);
  const reports = reportServiceOver(bed);
  bed.clock.advanceHours(1);
  await reports.render({ id, actor: 'ops' });
  assert.equal((await reportClock(bed, id))?.state, 'running', 'the whole report names every client: it is none of theirs');
  await reports.render({ id, actor: 'ops', client: 'acme' });
  assert.equal((await reportClock(bed, id))?.state, 'running', 'beta is still owed its report');
  assert.equal((await bed.incidents.require(id)).reportIssuedAt, null);
  bed.clock.advanceHours(1);
  const last = await reports.render({ id, actor: 'ops', client: 'beta' });
  assert.equal((await bed.incidents.require(id)).reportIssuedAt, bed.clock.now().toISOString());
  assert.equal((await reportClock(bed, id))?.state, 'met');
  assert.match(last.markdown, /\| Post-incident report \(7 days\) \| met \|/, 'the last report shows the clock met');
});

void test("a single client's incident is reported by its whole report or its client's report alike", async () => {
  const bed = incidentBed();
  const whole = await closed(bed, ['acme']);
  await reportServiceOver(bed).render({ id: whole, actor: 'ops' });
  assert.equal((await reportClock(bed, whole))?.state, 'met');
  const perClient = await closed(bed, ['acme']);
  await reportServiceOver(bed).render({ id: perClient, actor: 'ops', client: 'acme' });
  assert.equal((await reportClock(bed, perClient))?.state, 'met');
  const noClient = await closed(bed, []);
  await reportServiceOver(bed).render({ id: noClient, actor: 'ops' });
  assert.equal((await reportClock(bed, noClient))?.state, 'met');
});

void test('a draft for each client before closing does not stop the clock', async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'medium', summary: 'phishing wave', clients: ['acme', 'beta'], actor: 'ops' });
  for (const client of ['acme', 'beta']) await reportServiceOver(bed).render({ id: incident.id, actor: 'ops', client });
  await bed.incidents.close({ id: incident.id, ...CLOSURE, actor: 'ops' });
  await reportServiceOver(bed).render({ id: incident.id, actor: 'ops', client: 'acme' });
  assert.equal((await reportClock(bed, incident.id))?.state, 'running');
});

function responseOver(bed: IncidentBed) {
  return createIncidentResponse({
    store: bed.store,
    registry: bed.registry as unknown as Registry,
    clock: bed.clock,
    logger: createSilentLogger(),
    clocks: { timeZone: 'UTC' },
    support: bed.support,
    kill: { kill: () => Promise.reject(new Error('not asked for')) },
    rotate: { rotate: () => Promise.reject(new Error('not asked for')) },
    oauth: { revoke: () => Promise.reject(new Error('not asked for')) },
    sources: {} as never,
    signer: () => Promise.reject(new Error('not asked for')),
    keys: {} as never,
    evidenceDir: '/nonexistent',
  });
}

void test('the metrics read only the incidents whose clocks can still run, and the owed report keeps its series', async () => {
  const bed = incidentBed();
  for (let n = 0; n < 5; n += 1) {
    const id = await closed(bed, ['acme']);
    await reportServiceOver(bed).render({ id, actor: 'ops' });
  }
  const owed = await closed(bed, ['acme', 'beta']);
  await reportServiceOver(bed).render({ id: owed, actor: 'ops', client: 'acme' });
  const { incident: open } = await bed.incidents.open({ severity: 'low', summary: 'odd config', clients: ['beta'], actor: 'ops' });
  bed.store.largestList = 0;
  const samples = await responseOver(bed).clockSamples();
  assert.equal(bed.store.largestList, 2, 'the open incident and the one still owing a report, not the five reported');
  assert.deepEqual(
    samples.filter((sample) => sample.incident === owed).map((sample) => sample.clock),
    ['report'],
  );
  assert.ok(samples.some((sample) => sample.incident === open.id && sample.clock === 'report'));
});
