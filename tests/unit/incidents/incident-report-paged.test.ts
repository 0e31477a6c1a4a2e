// A post-incident report's timeline is read from the ops log a page at a time: the report holds the
// incident's entries, never the whole fleet's ever-growing log.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reportServiceOver } from './incident-evidence-bed.ts';
import { incidentBed } from './memory-incident-bed.ts';

void test("a report reads the ops log a page at a time and keeps the incident's clients' entries in its window", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
  for (let index = 0; index < 1_203; index++) {
    await bed.registry.appendOpsLog({ at: bed.clock.now().toISOString(), actor: 'ops', action: 'pause', clientId: index % 2 === 0 ? 'acme' : 'beta', reason: null, outcome: 'success', details: {} });
  }
  bed.registry.largestRead = 0;
  const reports = reportServiceOver(bed);
  const report = await reports.render({ id: incident.id, actor: 'ops' });
  assert.ok(bed.registry.largestRead > 0 && bed.registry.largestRead <= 500, `one read returned ${bed.registry.largestRead} entries`);
  assert.equal(report.markdown.split('\n').filter((line) => line.includes('| ops-log | ops | pause |')).length, 602);
});

void test("a client's report of a multi-client incident names neither the other clients nor what was done to them", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme', 'beta'], actor: 'ops' });
  for (const clientId of ['acme', 'beta']) {
    await bed.registry.appendOpsLog({ at: bed.clock.now().toISOString(), actor: 'ops', action: 'kill', clientId, reason: null, outcome: 'success', details: { incident: incident.id } });
    await bed.registry.appendOpsLog({ at: bed.clock.now().toISOString(), actor: 'ops', action: 'pause', clientId, reason: null, outcome: 'success', details: {} });
  }
  const reports = reportServiceOver(bed);
  const whole = await reports.render({ id: incident.id, actor: 'ops' });
  assert.match(whole.markdown, /beta/);
  const forAcme = await reports.render({ id: incident.id, actor: 'ops', client: 'acme' });
  assert.doesNotMatch(forAcme.markdown, /beta/);
  assert.doesNotMatch(forAcme.html, /beta/);
  assert.match(forAcme.markdown, /\| Clients affected \| acme \|/);
  assert.equal(forAcme.markdown.split('\n').filter((line) => / \| ops-log \| ops \| (kill|pause) \| /.test(line)).length, 2, "acme's kill and pause, not beta's");
  await assert.rejects(reports.render({ id: incident.id, actor: 'ops', client: 'gamma' }), /does not concern client "gamma"/);
});
