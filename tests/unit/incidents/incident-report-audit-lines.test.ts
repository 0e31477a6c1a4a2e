// The report reads a client's audit export from its evidence bundle a line at a time: the agent that wrote
// it may be the compromised party, so a line that is not a record (`null`, a number, an endless line) is
// skipped and counted, the report is still rendered, and memory holds one bounded line at a time.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { eachLine, MAX_LINE_BYTES } from '../../../orchestrator/src/services/incidents/bundle-lines.ts';
import { auditEventsFrom } from '../../../orchestrator/src/services/incidents/report-model.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { evidenceServiceOver, reportServiceOver, signerHome } from './incident-evidence-bed.ts';
import { incidentBed, START } from './memory-incident-bed.ts';

const home = signerHome('incident-audit-lines-');

const record = (seq: number) => JSON.stringify({ seq, timestamp: START.toISOString(), action_type: 'email_sent', actor: 'agent', result: 'success' });

void test('lines are split across chunks, an overlong one is skipped without being held, the last needs no line feed', async () => {
  const seen: string[] = [];
  const chunks = ['ab', 'c\nde', 'f\n', 'x'.repeat(6), 'y'.repeat(6), '\nlast'].map((text) => Buffer.from(text));
  const count = await eachLine(Readable.from(chunks), (line) => seen.push(line), 10);
  assert.deepEqual(seen, ['abc', 'def', 'last']);
  assert.deepEqual(count, { lines: 3, skipped: 1 });
});

void test('an audit line that is JSON but not a record is skipped, not a crash', () => {
  assert.deepEqual(auditEventsFrom('acme', `null\n42\n[1]\n${record(3)}\n`).map((event) => event.seq), [3]);
});

void test("the report shows a bundle's records and says how many overlong lines it skipped", async () => {
  const bed = incidentBed();
  const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme'], actor: 'alice' });
  await bed.activeGrant('acme', 'alice', incident.id);
  const keys = new MemoryKeyWrapper([parseClientId('acme')]);
  const evidence = evidenceServiceOver(bed, {
    signer: home.signer,
    keys,
    evidenceDir: path.join(home.dir, 'evidence'),
    exportAudit: (_clientId, _query, sink) => {
      sink.write(`${record(1)}\nnull\n${'z'.repeat(MAX_LINE_BYTES + 1)}\n${record(2)}\n`);
      return Promise.resolve();
    },
  });
  await evidence.seal({ id: incident.id, actor: 'alice' });
  const reports = reportServiceOver(bed, { signer: home.signer, keys });
  const report = await reports.render({ id: incident.id, actor: 'alice' });
  assert.match(report.markdown, new RegExp(`signature verified\\), 2 records; 1 line\\(s\\) longer than ${MAX_LINE_BYTES} bytes skipped`));
  assert.equal(report.markdown.split('\n').filter((line) => line.includes('| audit:acme | agent | email\\_sent (audit #')).length, 2);
});
