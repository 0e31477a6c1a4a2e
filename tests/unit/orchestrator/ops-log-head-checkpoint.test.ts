import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GENESIS_HASH } from '@agent-fleet/kernel/canonical-json';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { fileOpsLogHeadCheckpoint } from '../../../orchestrator/src/adapters/sql/ops-log-head-checkpoint.ts';
import { formatOpsLogVerification } from '../../../orchestrator/src/cli/format/ops-log.ts';
import { hashOpsLogEntry, newSeals, verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';

/** A linked chain; from `rewriteFrom` on, entries say something else, hashes recomputed (as a database writer could). */
function chain(count: number, rewriteFrom = Number.POSITIVE_INFINITY): OpsLogEntry[] {
  const entries: OpsLogEntry[] = [];
  let prevHash = GENESIS_HASH;
  let salt = 0;
  for (let seq = 1; seq <= count; seq++) {
    const body = {
      seq,
      at: `2026-11-23T10:00:${String(seq).padStart(2, '0')}.000Z`,
      actor: 'ops',
      action: seq >= rewriteFrom ? 'resume' : 'kill',
      clientId: 'acme',
      reason: null,
      outcome: 'success',
      details: {},
      prevHash,
      seals: newSeals(() => `salt-${(salt += 1)}`),
    };
    const hash = hashOpsLogEntry(body);
    entries.push({ ...body, hash });
    prevHash = hash;
  }
  return entries;
}

const headOf = (entries: readonly OpsLogEntry[], seq: number) => ({ seq, hash: entries[seq - 1]!.hash });

void test('a log whose last entries were deleted fails as truncated, naming where it ends and the checkpoint', () => {
  const entries = chain(6);
  const result = verifyOpsLog(entries.slice(0, 4), headOf(entries, 6));
  assert.deepEqual(result, { valid: false, entries: 4, firstBadSeq: 5, problem: 'truncated', checkpointSeq: 6 });
  assert.match(formatOpsLogVerification(result), /at seq 5: the log ends before its head checkpoint .*\(checkpoint at seq 6\)/);
  assert.match(formatOpsLogVerification(result), /A deliberate restore: keep ops-log-head\.json .* move it away and restart/, 'what to do');
  // Every entry deleted: still truncated.
  assert.deepEqual(verifyOpsLog([], headOf(entries, 6)), { valid: false, entries: 0, firstBadSeq: 1, problem: 'truncated', checkpointSeq: 6 });
});

void test('a tail rewritten with recomputed hashes fails as head-mismatch at the checkpoint', () => {
  const original = chain(6);
  const rewritten = chain(6, 4);
  assert.equal(verifyOpsLog(rewritten).valid, true, 'the rewritten chain links on its own');
  assert.deepEqual(verifyOpsLog(rewritten, headOf(original, 6)), { valid: false, entries: 6, firstBadSeq: 6, problem: 'head-mismatch', checkpointSeq: 6 });
  // Rewritten and cut back to the checkpoint's seq, or beyond it: the checkpoint still tells.
  assert.equal(verifyOpsLog(rewritten.slice(0, 5), headOf(original, 5)).valid, false);
});

void test('a log ahead of its checkpoint (an append whose checkpoint write did not happen) verifies when it links', () => {
  const entries = chain(6);
  assert.deepEqual(verifyOpsLog(entries, headOf(entries, 5)), { valid: true, entries: 6, head: entries[5]!.hash });
  assert.deepEqual(verifyOpsLog(entries, headOf(entries, 6)), { valid: true, entries: 6, head: entries[5]!.hash });
  // Ahead but not linking: the chain check still catches it.
  const broken = [...entries.slice(0, 5), { ...entries[5]!, prevHash: GENESIS_HASH }];
  assert.equal(verifyOpsLog(broken, headOf(entries, 5)).valid, false);
});

let home: string;
before(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'ops-log-head-'));
});
after(() => rm(home, { recursive: true, force: true }));

void test('the checkpoint file reads back what was written, moves only forwards, and is private', async () => {
  const file = path.join(home, 'forward', 'ops-log-head.json');
  const key = randomBytes(32);
  const checkpoint = fileOpsLogHeadCheckpoint(file, key);
  const entries = chain(3);
  assert.equal(await checkpoint.read(), null);
  assert.equal(await checkpoint.advance(headOf(entries, 2)), 'advanced');
  assert.equal(await checkpoint.advance(headOf(entries, 3)), 'advanced');
  // A concurrent append that committed earlier writes its head late: kept at the later one.
  assert.equal(await checkpoint.advance(headOf(entries, 1)), 'kept');
  assert.deepEqual(await fileOpsLogHeadCheckpoint(file, key).read(), headOf(entries, 3));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(path.dirname(file)), ['ops-log-head.json'], 'no temp file left behind');
});

void test('a tampered checkpoint file, or one under another key, is refused and not overwritten', async () => {
  const file = path.join(home, 'tampered', 'ops-log-head.json');
  const key = randomBytes(32);
  const entries = chain(6);
  await fileOpsLogHeadCheckpoint(file, key).advance(headOf(entries, 6));
  const stored = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const refused = async (checkpoint = fileOpsLogHeadCheckpoint(file, key)) =>
    assert.rejects(checkpoint.read(), (error: unknown) => isFleetError(error) && error.code === 'integrity' && error.message.includes(file));

  // Moved back to seq 4 (to hide a truncation), its MAC kept.
  await writeFile(file, JSON.stringify({ ...stored, seq: 4, hash: entries[3]!.hash }));
  await refused();
  assert.equal(await fileOpsLogHeadCheckpoint(file, key).advance(headOf(entries, 6)), 'refused-invalid');
  assert.equal(JSON.parse(await readFile(file, 'utf8')).seq, 4, 'left as evidence');

  await writeFile(file, 'not json');
  await refused();
  await writeFile(file, JSON.stringify({ ...stored, mac: undefined }));
  await refused();
  await writeFile(file, JSON.stringify(stored));
  await refused(fileOpsLogHeadCheckpoint(file, randomBytes(32)));
  assert.deepEqual(await fileOpsLogHeadCheckpoint(file, key).read(), headOf(entries, 6));
});

void test('a head that is not one is refused before it is written', async () => {
  const checkpoint = fileOpsLogHeadCheckpoint(path.join(home, 'bad-head', 'ops-log-head.json'), randomBytes(32));
  await assert.rejects(checkpoint.advance({ seq: 0, hash: 'a'.repeat(64) }), /not an ops-log head/);
  await assert.rejects(checkpoint.advance({ seq: 2, hash: 'not-a-hash' }), /not an ops-log head/);
  assert.equal(await checkpoint.read(), null);
});
