import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { eraseFields, hashOpsLogEntry, newSeals, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
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

let saltCounter = 0;
const testSalt = () => `salt-${(saltCounter += 1)}`;

/** A chain of entries written with seals (erasable fields), as the registry writes them now. */
function sealedChain(bodies: ReadonlyArray<Pick<OpsLogEntry, 'actor' | 'action' | 'clientId' | 'reason' | 'details'> & { outcome?: string }>): OpsLogEntry[] {
  const entries: OpsLogEntry[] = [];
  let prevHash = GENESIS_HASH;
  bodies.forEach((body, index) => {
    const unhashed = { seq: index + 1, at: `2026-11-23T10:00:0${index}.000Z`, outcome: 'success', ...body, prevHash, seals: newSeals(testSalt) };
    const hash = hashOpsLogEntry(unhashed);
    entries.push({ ...unhashed, hash });
    prevHash = hash;
  });
  return entries;
}

const SETTINGS_CHANGE = { actor: 'client-admin:jane@acme.example', action: 'config-change', clientId: 'acme', reason: 'block a sender', details: { blockList: '+spam@x.example' } };

void test('sealed entries: the hash covers every field through its digest', () => {
  const [entry] = sealedChain([SETTINGS_CHANGE]);
  assert.deepEqual(verifyOpsLog([entry!]).valid, true);
  const edits: Array<Partial<OpsLogEntry>> = [
    { actor: 'mallory' },
    { reason: null },
    { details: { blockList: '+other@x.example' } },
    { outcome: 'failed' },
    { clientId: 'globex' },
    { seals: { ...entry!.seals!, actor: { salt: 'other' } } },
    { seals: undefined },
  ];
  for (const edit of edits) assert.equal(verifyOpsLog([{ ...entry!, ...edit }]).valid, false, JSON.stringify(edit));
});

void test('erasing fields keeps the hash; the values are gone and the chain verifies once the client is deleted', () => {
  const entries = sealedChain([SETTINGS_CHANGE, { actor: 'ops', action: 'kill', clientId: 'acme', reason: 'asked by jane@acme.example', details: {} }, { actor: 'ops', action: 'erase', clientId: 'acme', reason: null, details: {} }]);
  const erased = [eraseFields(entries[0]!, ['actor', 'reason', 'details'], new Date('2026-12-01T00:00:00Z')), eraseFields(entries[1]!, ['reason'], new Date('2026-12-01T00:00:00Z')), entries[2]!];
  assert.equal(erased[0]!.hash, entries[0]!.hash);
  assert.equal(hashOpsLogEntry(erased[0]!), entries[0]!.hash);
  assert.deepEqual([erased[0]!.actor, erased[0]!.reason, erased[0]!.details, erased[0]!.erasedAt], ['erased', null, {}, '2026-12-01T00:00:00.000Z']);
  assert.equal(erased[1]!.actor, 'ops', 'a field not erased keeps its value');
  assert.doesNotMatch(JSON.stringify(erased.slice(0, 2)), /jane|spam@|block a sender/);
  assert.deepEqual(verifyOpsLog(erased), { valid: true, entries: 3, head: entries[2]!.hash });
});

void test('an erased field cannot be written to, and erasure without a later deletion of the client is reported', () => {
  const entries = sealedChain([SETTINGS_CHANGE, { actor: 'ops', action: 'deprovision-purge', clientId: 'globex', reason: null, details: {} }]);
  const erased = eraseFields(entries[0]!, ['actor'], new Date());
  assert.deepEqual(verifyOpsLog([erased, entries[1]!]), { valid: false, entries: 2, firstBadSeq: 1, problem: 'erased-without-deletion' });
  const deleted = sealedChain([SETTINGS_CHANGE, { actor: 'ops', action: 'deprovision-purge', clientId: 'acme', reason: null, details: {} }]);
  const erasedThenDeleted = [eraseFields(deleted[0]!, ['actor'], new Date()), deleted[1]!];
  assert.equal(verifyOpsLog(erasedThenDeleted).valid, true);
  assert.deepEqual(verifyOpsLog([{ ...erasedThenDeleted[0]!, actor: 'mallory' }, deleted[1]!]), { valid: false, entries: 2, firstBadSeq: 1, problem: 'edited' });
});

void test('entries written before seals still verify and are never erased', () => {
  const [old] = chain(1);
  assert.equal(eraseFields(old!, ['actor'], new Date()), old);
  assert.equal(verifyOpsLog([old!]).valid, true);
});

void test('a malformed seal read back from storage fails verification instead of throwing', () => {
  const [entry] = sealedChain([SETTINGS_CHANGE]);
  for (const seals of [{ ...entry!.seals!, actor: 'x' }, { reason: entry!.seals!.reason }, { ...entry!.seals!, details: { digest: 7 } }, 42]) {
    assert.equal(verifyOpsLog([{ ...entry!, seals: seals as unknown as OpsLogEntry['seals'] }]).valid, false, JSON.stringify(seals));
  }
});

void test('a log begun before seals goes on with sealed entries: the mixed chain verifies, and only the sealed part can be erased', () => {
  const old = chain(2);
  const unhashed = { seq: 3, at: '2026-12-01T00:00:00.000Z', actor: 'client-admin:jane@acme.example', action: 'kill', clientId: 'acme', reason: 'x', outcome: 'success', details: {}, prevHash: old[1]!.hash, seals: newSeals(testSalt) };
  const sealed: OpsLogEntry = { ...unhashed, hash: hashOpsLogEntry(unhashed) };
  const purge = ((body) => ({ ...body, hash: hashOpsLogEntry(body) }))({ seq: 4, at: '2026-12-02T00:00:00.000Z', actor: 'retention', action: 'deprovision-purge', clientId: 'acme', reason: null, outcome: 'success', details: {}, prevHash: sealed.hash, seals: newSeals(testSalt) });
  assert.equal(verifyOpsLog([...old, sealed, purge]).valid, true);
  assert.deepEqual(verifyOpsLog([...old, eraseFields(sealed, ['actor', 'reason'], new Date()), purge]), { valid: true, entries: 4, head: purge.hash });
});
