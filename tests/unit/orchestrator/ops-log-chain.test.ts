import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { hashOpsLogEntry, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';

function chain(count: number): OpsLogEntry[] {
  const entries: OpsLogEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const body = {
      seq,
      at: `2026-11-23T10:00:0${seq % 10}.000Z`,
      actor: 'ops',
      action: seq % 2 ? 'provision' : 'kill',
      clientId: 'acme',
      reason: seq === 2 ? 'suspicious sends' : null,
      outcome: 'success',
      details: { n: seq, nested: { b: 1, a: [1, 2] } },
      prevHash,
    };
    const hash = hashOpsLogEntry(body);
    entries.push({ ...body, hash });
    prevHash = hash;
  }
  return entries;
}

/** Re-hashes an entry after an edit, as someone with write access to the table could. */
function rehash(entry: OpsLogEntry): OpsLogEntry {
  return { ...entry, hash: hashOpsLogEntry(entry) };
}

void test('an intact chain verifies and reports its head', () => {
  const entries = chain(5);
  assert.deepEqual(verifyOpsLog(entries), { valid: true, entries: 5, head: entries[4]!.hash });
  assert.deepEqual(verifyOpsLog([]), { valid: true, entries: 0, head: GENESIS_HASH });
});

void test('the hash covers every field and ignores key order', () => {
  const [entry] = chain(1);
  const base = hashOpsLogEntry(entry!);
  const reordered = Object.fromEntries(Object.entries(entry!).reverse()) as unknown as OpsLogEntry;
  assert.equal(hashOpsLogEntry(reordered), base);
  const edits: Array<Partial<OpsLogEntry>> = [
    { seq: 2 },
    { at: '2026-11-23T10:00:02.000Z' },
    { actor: 'mallory' },
    { action: 'revive' },
    { clientId: null },
    { reason: 'x' },
    { outcome: 'failed' },
    { details: { n: 2 } },
    { prevHash: 'f'.repeat(64) },
  ];
  for (const edit of edits) assert.notEqual(hashOpsLogEntry({ ...entry!, ...edit }), base, Object.keys(edit)[0]);
});

void test('an edited entry is detected at its sequence number', () => {
  const entries = chain(5);
  entries[2] = { ...entries[2]!, reason: 'covered up' };
  assert.deepEqual(verifyOpsLog(entries), { valid: false, entries: 5, firstBadSeq: 3, problem: 'edited' });
});

void test('an edited and re-hashed entry breaks the link of the next one', () => {
  const entries = chain(5);
  entries[2] = rehash({ ...entries[2]!, actor: 'mallory' });
  assert.deepEqual(verifyOpsLog(entries), { valid: false, entries: 5, firstBadSeq: 4, problem: 'broken-link' });
});

void test('a deleted entry is a gap; a deleted first entry too', () => {
  const entries = chain(5);
  assert.deepEqual(verifyOpsLog([...entries.slice(0, 2), ...entries.slice(3)]), { valid: false, entries: 4, firstBadSeq: 3, problem: 'gap' });
  assert.deepEqual(verifyOpsLog(entries.slice(1)), { valid: false, entries: 4, firstBadSeq: 1, problem: 'gap' });
});

void test('reordered entries are detected', () => {
  const entries = chain(4);
  const swapped = [entries[0]!, entries[2]!, entries[1]!, entries[3]!];
  const result = verifyOpsLog(swapped);
  assert.equal(result.valid, false);
  if (!result.valid) assert.equal(result.firstBadSeq, 2);
  assert.deepEqual(verifyOpsLog([entries[0]!, entries[1]!, entries[1]!]), { valid: false, entries: 3, firstBadSeq: 3, problem: 'reordered' });
});

void test('a chain rebuilt from scratch with a forged genesis link is rejected', () => {
  const entries = chain(2).map((entry) => rehash({ ...entry, prevHash: '1'.repeat(64) }));
  assert.deepEqual(verifyOpsLog(entries), { valid: false, entries: 2, firstBadSeq: 1, problem: 'broken-link' });
});
