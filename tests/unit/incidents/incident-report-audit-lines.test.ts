// The report reads a client's audit export from its evidence bundle a line at a time: the agent that wrote
// it may be the compromised party, so a line that is not a record (`null`, a number, an endless line) is
// skipped and counted, the report is still rendered, and memory holds one bounded line at a time.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { EncryptedFileStore, loadOrCreateMasterKey } from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { loadOrCreateExportSigner, type ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { eachLine, MAX_LINE_BYTES } from '../../../orchestrator/src/services/incidents/bundle-lines.ts';
import { IncidentEvidenceService } from '../../../orchestrator/src/services/incidents/incident-evidence.ts';
import { IncidentReportService } from '../../../orchestrator/src/services/incidents/incident-report.ts';
import { auditEventsFrom } from '../../../orchestrator/src/services/incidents/report-model.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';
import { incidentBed, START } from './memory-incident-bed.ts';

let home: string;
let signer: ExportSigner;
before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'incident-audit-lines-'));
  const keyDir = path.join(home, 'export-key');
  signer = await loadOrCreateExportSigner(new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)), START);
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

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
  const evidence = new IncidentEvidenceService({
    incidents: bed.incidents,
    sources: {
      registry: bed.registry as unknown as Registry,
      runtime: { inspectAgent: () => Promise.resolve(null) },
      agents: {
        verifyAudit: () => Promise.resolve({ verification: { valid: true }, checkpoint: null }),
        exportAudit: (_clientId, _query, sink) => {
          sink.write(`${record(1)}\nnull\n${'z'.repeat(MAX_LINE_BYTES + 1)}\n${record(2)}\n`);
          return Promise.resolve();
        },
      },
      authorize: (clientId, member, purpose, scope) => bed.support.authorize(clientId, member, purpose, scope),
      forensics: null,
      metricsSnapshot: () => Promise.resolve('fleet_up 1\n'),
    },
    signer: () => Promise.resolve(signer),
    keys,
    evidenceDir: path.join(home, 'evidence'),
    clock: bed.clock,
    logger: createSilentLogger(),
  });
  await evidence.seal({ id: incident.id, actor: 'alice' });
  const reports = new IncidentReportService({ incidents: bed.incidents, registry: bed.registry as unknown as Registry, signer: () => Promise.resolve(signer), keys, clock: bed.clock, clocks: { timeZone: 'UTC' } });
  const report = await reports.render({ id: incident.id, actor: 'alice' });
  assert.match(report.markdown, new RegExp(`signature verified\\), 2 records; 1 line\\(s\\) longer than ${MAX_LINE_BYTES} bytes skipped`));
  assert.equal(report.markdown.split('\n').filter((line) => line.includes('| audit:acme | agent | email\\_sent (audit #')).length, 2);
});
