// An incident's evidence reads the fleet's ops log a page at a time (the log only ever grows: a bundle must
// not hold it whole in memory), keeps the whole slice of the client and the incident, and is still sealed
// when an entry of the log cannot be read (its sealed fields altered): the evidence of tampering is kept.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { registryOn } from '../../../orchestrator/src/adapters/sql/open-registry.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ExportEntry } from '../../../orchestrator/src/services/export/export-archive-writer.ts';
import { EVIDENCE_OPS_LOG_PAGE_SIZE } from '../../../orchestrator/src/services/incidents/evidence-ops-log.ts';
import { collectEvidence, type EvidenceSources } from '../../../orchestrator/src/services/incidents/evidence-parts.ts';
import { opsLogBed } from '../../helpers/ops-log-bed.ts';
import { MemoryOpsRegistry } from './memory-incident-bed.ts';

const acme = parseClientId('acme');
const bed = opsLogBed('evidence-ops-log-');

function sourcesOver(registry: Registry): EvidenceSources {
  return {
    registry,
    runtime: { inspectAgent: () => Promise.resolve(null) },
    agents: {
      verifyAudit: () => Promise.resolve({ verification: { valid: true }, checkpoint: null }),
      exportAudit: () => Promise.resolve(),
    },
    authorize: () => Promise.resolve(),
    forensics: null,
    metricsSnapshot: () => Promise.resolve('fleet_up 1\n'),
  };
}

async function contentOf(entries: readonly ExportEntry[], name: string): Promise<string> {
  const entry = entries.find((candidate) => candidate.name === name);
  assert.ok(entry, `the bundle holds ${name}`);
  const chunks: Buffer[] = [];
  for await (const chunk of entry.open()) chunks.push(Buffer.from(chunk));
  const content = Buffer.concat(chunks);
  assert.equal(entry.size, content.length, `${name}: the size announced is the size written`);
  return content.toString('utf8');
}

async function collect(registry: Registry, incidentId = 'INC-9') {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'evidence-ops-log-work-'));
  try {
    const { entries, parts } = await collectEvidence(sourcesOver(registry), { clientId: acme, incidentId, actor: 'alice', workDir, incidentView: {} });
    const slice = (await contentOf(entries, 'ops-log/entries.jsonl')).split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { seq: number });
    const verification = JSON.parse(await contentOf(entries, 'ops-log/verification.json')) as Record<string, unknown> & { verification: Record<string, unknown> };
    return { slice, verification, parts };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

void test('evidence reads the ops log no more than a page at a time, and keeps the whole slice of the client and the incident', async () => {
  const registry = new MemoryOpsRegistry();
  const length = EVIDENCE_OPS_LOG_PAGE_SIZE * 2 + 7;
  for (let index = 0; index < length; index++) {
    // Entry 1 is the incident's own (under no client); entry 4 is the incident's about its other client.
    const clientId = index === 1 ? null : index % 3 === 0 ? acme : 'beta';
    const details = index === 1 || index === 4 ? { incident: 'INC-9' } : {};
    await registry.appendOpsLog({ actor: 'ops', action: 'kill', clientId, reason: null, outcome: 'success', details });
  }
  registry.largestRead = 0;
  const { slice, verification } = await collect(registry as unknown as Registry);
  assert.ok(registry.largestRead <= EVIDENCE_OPS_LOG_PAGE_SIZE, `one read returned ${registry.largestRead} entries`);
  const expected = registry.entries.filter((entry, index) => entry.clientId === acme || index === 1).map((entry) => entry.seq);
  assert.deepEqual(slice.map((entry) => entry.seq), expected);
  assert.equal(verification.verification['valid'], true);
  assert.equal(verification.verification['entries'], length);
  assert.deepEqual(verification['head'], { seq: length, hash: registry.entries.at(-1)?.hash });
});

void test('an entry whose sealed fields were altered does not stop the evidence: the record says where the log could not be read', async () => {
  await bed.emptyLog();
  const { registry } = await registryOn(bed.executor, bed.homeDir);
  for (let index = 0; index < 4; index++) await registry.appendOpsLog({ actor: 'ops', action: 'kill', clientId: acme, reason: null, outcome: 'success', details: {} });
  // Entry 3's sealed fields moved onto entry 2: they are bound to their seq, so entry 2 no longer opens.
  await bed.executor.query('UPDATE ops_log SET sealed_fields = (SELECT sealed_fields FROM ops_log WHERE seq = 3) WHERE seq = 2');
  const { slice, verification, parts } = await collect(registry);
  assert.match(String(verification['readProblem']), /seq 2/);
  // The page holding the entry does not read: the verification covers the entries before that page.
  assert.equal(verification.verification['entries'], 0);
  assert.deepEqual(slice, []);
  assert.match(parts.find((part) => part.part === 'ops-log slice')?.note ?? '', /could not be read after its first 0 entries: .*seq 2/);
});
