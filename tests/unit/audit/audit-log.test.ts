import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { hashRecord, type AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { decodeAuditLine, encodeAuditLine } from '../../../agent-image/src/services/audit-log/audit-codec.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { dataKey, readLines, sendEntry, temporaryDirectory, writeLines } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const DAY = '2026-01-07';
const fixedNow = () => new Date(`${DAY}T10:30:00.000Z`);

async function logWith(count: number, key = dataKey()) {
  const dir = await temporaryDirectory('audit');
  cleanups.push(dir.remove);
  const log = await AuditLog.open({ directory: dir.path, keys: key, now: fixedNow });
  const records: AuditRecord[] = [];
  for (let index = 1; index <= count; index++) records.push(await log.append(sendEntry(index)));
  return { log, dir: dir.path, key, records, file: join(dir.path, `audit-${DAY}.log`) };
}

async function breakOf(log: AuditLog, checkpoint?: { seq: number; hash: string }) {
  const result = await log.verify({ checkpoint: checkpoint ?? null });
  assert.equal(result.ok, false, 'verification should fail');
  return result.ok ? undefined : { kind: result.break.kind, seq: result.break.seq };
}

describe('audit log', () => {
  it('appends hash-chained records into one file per UTC day and reads them back', async () => {
    const { log, dir, records } = await logWith(3);
    assert.deepEqual(records.map((record) => record.seq), [1, 2, 3]);
    assert.equal(records[1]?.prev_hash, records[0]?.hash);
    assert.deepEqual(await readdir(dir), [`audit-${DAY}.log`]);
    const read = await log.read();
    assert.deepEqual(read, records);
    assert.deepEqual(await log.verify(), { ok: true, count: 3, head: { seq: 3, hash: records[2]?.hash } });
    assert.deepEqual(log.head(), { seq: 3, hash: records[2]?.hash });
    await log.close();
  });

  it('stores nothing in plain text: neither targets nor parameters appear in the file', async () => {
    const { log, file } = await logWith(2);
    const raw = await readFile(file, 'utf8');
    assert.doesNotMatch(raw, /example\.com|Invoice|email_send/);
    await log.close();
  });

  it('concurrent appends get consecutive seqs and the chain verifies', async () => {
    const { log } = await logWith(0);
    const appended = await Promise.all(Array.from({ length: 200 }, (_, index) => log.append(sendEntry(index))));
    assert.deepEqual(appended.map((record) => record.seq), Array.from({ length: 200 }, (_, index) => index + 1));
    const result = await log.verify();
    assert.equal(result.ok && result.count, 200);
    await log.close();
  });

  it('rejects an invalid entry without touching the chain', async () => {
    const { log, records } = await logWith(1);
    await assert.rejects(
      log.append({ ...sendEntry(2), action_type: 'teleport' as 'email_send' }),
      (error: unknown) => error instanceof FleetError && error.code === 'invalid_input' && /action_type/.test(error.message),
    );
    const next = await log.append(sendEntry(3));
    assert.equal(next.seq, 2);
    assert.equal(next.prev_hash, records[0]?.hash);
    await log.close();
  });

  it('resumes the chain after a restart', async () => {
    const { log, dir, key, records } = await logWith(3);
    await log.close();
    const reopened = await AuditLog.open({ directory: dir, keys: key, now: fixedNow });
    assert.deepEqual(reopened.head(), { seq: 3, hash: records[2]?.hash });
    const next = await reopened.append(sendEntry(4));
    assert.equal(next.seq, 4);
    assert.equal(next.prev_hash, records[2]?.hash);
    assert.equal((await reopened.verify()).ok, true);
    await reopened.close();
  });

  it('rolls over to a new file at UTC midnight and verifies across files', async () => {
    const dir = await temporaryDirectory('audit-days');
    cleanups.push(dir.remove);
    let now = new Date('2026-01-07T23:59:59.000Z');
    const log = await AuditLog.open({ directory: dir.path, keys: dataKey(), now: () => now });
    await log.append(sendEntry(1));
    await log.append(sendEntry(2));
    now = new Date('2026-01-08T00:00:01.000Z');
    await log.append(sendEntry(3));
    assert.deepEqual((await readdir(dir.path)).sort(), ['audit-2026-01-07.log', 'audit-2026-01-08.log']);
    assert.equal((await log.verify()).ok, true);
    const secondDay = await log.read({ since: new Date('2026-01-08T00:00:00.000Z') });
    assert.deepEqual(secondDay.map((record) => record.seq), [3]);
    const firstDay = await log.read({ until: new Date('2026-01-07T23:59:59.999Z') });
    assert.deepEqual(firstDay.map((record) => record.seq), [1, 2]);
    await log.close();
  });

  it('detects a whole day file removed as a gap at its first seq', async () => {
    const dir = await temporaryDirectory('audit-day-gone');
    cleanups.push(dir.remove);
    let now = new Date('2026-01-06T12:00:00.000Z');
    const log = await AuditLog.open({ directory: dir.path, keys: dataKey(), now: () => now });
    await log.append(sendEntry(1));
    now = new Date('2026-01-07T12:00:00.000Z');
    await log.append(sendEntry(2));
    await log.append(sendEntry(3));
    now = new Date('2026-01-08T12:00:00.000Z');
    await log.append(sendEntry(4));
    await log.close();
    await rm(join(dir.path, 'audit-2026-01-07.log'));
    assert.deepEqual(await breakOf(log), { kind: 'gap', seq: 2 });
  });

  it('detects a record edited and re-encrypted by someone holding the key, naming its seq', async () => {
    const { log, file, key } = await logWith(6);
    await log.close();
    const lines = await readLines(file);
    const decoded = decodeAuditLine(KeyRing.single(key), lines[2] as string);
    assert.ok(decoded.ok);
    const forged = { ...decoded.record, target: 'attacker@evil.test' };
    lines[2] = encodeAuditLine(KeyRing.single(key), { ...forged, hash: hashRecord(forged) });
    await writeLines(file, lines);
    assert.deepEqual(await breakOf(log), { kind: 'edited', seq: 3 });
  });

  it('detects a deleted record as a gap at its seq', async () => {
    const { log, file } = await logWith(6);
    await log.close();
    const lines = await readLines(file);
    lines.splice(3, 1);
    await writeLines(file, lines);
    assert.deepEqual(await breakOf(log), { kind: 'gap', seq: 4 });
  });

  it('detects two reordered records', async () => {
    const { log, file } = await logWith(6);
    await log.close();
    const lines = await readLines(file);
    [lines[1], lines[2]] = [lines[2] as string, lines[1] as string];
    await writeLines(file, lines);
    assert.deepEqual(await breakOf(log), { kind: 'reordered', seq: 2 });
  });

  it('detects a truncated tail against the external checkpoint', async () => {
    const { log, file } = await logWith(6);
    const checkpoint = log.head();
    assert.ok(checkpoint);
    await log.close();
    const lines = await readLines(file);
    await writeLines(file, lines.slice(0, 4));
    assert.equal((await log.verify()).ok, true, 'without a checkpoint a clean truncation looks intact');
    assert.deepEqual(await breakOf(log, checkpoint), { kind: 'truncated', seq: 5 });
  });

  it('detects tampered ciphertext through GCM authentication, naming the seq', async () => {
    const { log, file } = await logWith(5);
    await log.close();
    const lines = await readLines(file);
    const envelope = Buffer.from(lines[3] as string, 'base64');
    envelope[envelope.length - 20] = (envelope[envelope.length - 20] as number) ^ 0x01;
    lines[3] = envelope.toString('base64');
    await writeLines(file, lines);
    assert.deepEqual(await breakOf(log), { kind: 'undecryptable', seq: 4 });
    await assert.rejects(log.read(), (error: unknown) => error instanceof FleetError && error.code === 'integrity');
  });

  it('refuses to reopen a log whose last record was tampered with', async () => {
    const { log, file, dir, key } = await logWith(3);
    await log.close();
    const lines = await readLines(file);
    lines[2] = Buffer.from('not an envelope at all, but long enough to look like one').toString('base64');
    await writeLines(file, lines);
    await assert.rejects(
      AuditLog.open({ directory: dir, keys: key, now: fixedNow }),
      (error: unknown) => error instanceof FleetError && error.code === 'integrity',
    );
  });

  it('quarantines a torn last line after a crash and continues the chain', async () => {
    const { log, file, dir, key, records } = await logWith(3);
    await log.close();
    await appendFile(file, 'QUJDREVGR0hJSktMTU5PUFFSU1RV');
    const reopened = await AuditLog.open({ directory: dir, keys: key, now: fixedNow });
    assert.equal(reopened.tornTail?.kept, false);
    assert.ok(reopened.tornTail?.quarantinedTo);
    assert.equal(await readFile(reopened.tornTail.quarantinedTo, 'utf8'), 'QUJDREVGR0hJSktMTU5PUFFSU1RV');
    assert.deepEqual(reopened.head(), { seq: 3, hash: records[2]?.hash });
    assert.equal((await reopened.append(sendEntry(4))).seq, 4);
    const result = await reopened.verify();
    assert.equal(result.ok && result.count, 4);
    await reopened.close();
  });

  it('keeps a whole last record whose newline was lost', async () => {
    const { log, file, dir, key, records } = await logWith(3);
    await log.close();
    const raw = await readFile(file, 'utf8');
    await writeFile(file, raw.slice(0, -1));
    const reopened = await AuditLog.open({ directory: dir, keys: key, now: fixedNow });
    assert.deepEqual(reopened.tornTail && [reopened.tornTail.kept, reopened.tornTail.quarantinedTo], [true, null]);
    assert.deepEqual(reopened.head(), { seq: 3, hash: records[2]?.hash });
    assert.equal((await reopened.append(sendEntry(4))).seq, 4);
    assert.equal((await reopened.verify()).ok, true);
    await reopened.close();
  });

  it('decrypts records written before a key rotation and seals new ones with the new key', async () => {
    const oldKey = dataKey();
    const newKey = dataKey();
    const { log, dir, file } = await logWith(2, oldKey);
    await log.close();
    const ring = new KeyRing([
      { version: 1, key: oldKey },
      { version: 2, key: newKey },
    ]);
    const rotated = await AuditLog.open({ directory: dir, keys: ring, now: fixedNow });
    await rotated.append(sendEntry(3));
    assert.deepEqual((await rotated.read()).map((record) => record.seq), [1, 2, 3]);
    assert.equal((await rotated.verify()).ok, true);
    const lines = await readLines(file);
    assert.deepEqual(
      lines.map((line) => Buffer.from(line, 'base64').readUInt32BE(2)),
      [1, 1, 2],
    );
    await rotated.close();
    const withoutOld = await AuditLog.open({ directory: dir, keys: new KeyRing([{ version: 2, key: newKey }]), now: fixedNow });
    assert.deepEqual(await breakOf(withoutOld), { kind: 'undecryptable', seq: 1 });
    await withoutOld.close();
  });

  it('never shows a data key when a key ring is logged or serialised', () => {
    const key = Buffer.alloc(32, 0xab);
    const ring = KeyRing.single(key);
    const shown = `${inspect(ring)} ${JSON.stringify(ring)}`;
    assert.doesNotMatch(shown, /abab|q6ur/i);
    assert.match(shown, /versions/);
    assert.throws(() => KeyRing.single(Buffer.alloc(16)), /32 bytes/);
  });
});

describe('audit log: does the chain still extend a checkpoint?', () => {
  const checkpointOf = (record: AuditRecord | undefined) => ({ seq: record?.seq ?? 0, hash: record?.hash ?? '' });

  it('an honest log extends every earlier head, and its own head', async () => {
    const { log, records } = await logWith(5);
    assert.deepEqual(await log.verifyExtension(checkpointOf(records[2])), { ok: true, count: 2, head: checkpointOf(records[4]) });
    assert.deepEqual(await log.verifyExtension(checkpointOf(records[4])), { ok: true, count: 0, head: checkpointOf(records[4]) });
  });

  it('a history rewritten and then made longer verifies on its own, but no longer extends the old checkpoint', async () => {
    const { records, key } = await logWith(5);
    const checkpoint = checkpointOf(records[2]);
    // Whoever holds the key writes a new chain from record 1, different content, longer than the checkpoint.
    const dir = await temporaryDirectory('audit-rewrite');
    cleanups.push(dir.remove);
    const forged = await AuditLog.open({ directory: dir.path, keys: key, now: fixedNow });
    for (let index = 1; index <= 7; index++) await forged.append(sendEntry(100 + index));
    assert.equal((await forged.verify()).ok, true, 'a consistent chain by itself');
    assert.deepEqual(await breakOfExtension(forged, checkpoint), { kind: 'rewritten', seq: 3 });
  });

  it('a log shorter than the checkpoint is truncated; an edit after the checkpoint is found', async () => {
    const { log, records, file, key } = await logWith(5);
    assert.deepEqual(await breakOfExtension(log, { seq: 9, hash: records[4]?.hash ?? '' }), { kind: 'truncated', seq: 9 });
    const lines = await readLines(file);
    const edited = { ...(decodeAuditLine(KeyRing.single(key), lines[3] ?? '') as { record: AuditRecord }).record, target: 'someone-else@example.com' };
    await writeLines(file, [...lines.slice(0, 3), encodeAuditLine(KeyRing.single(key), edited), ...lines.slice(4)]);
    assert.deepEqual(await breakOfExtension(log, checkpointOf(records[1])), { kind: 'edited', seq: 4 });
  });

  it('reads from the day file holding the checkpoint on: damage to older days is left to the full verification', async () => {
    const dir = await temporaryDirectory('audit-days');
    cleanups.push(dir.remove);
    let day = '2026-01-05';
    const log = await AuditLog.open({ directory: dir.path, keys: dataKey(), now: () => new Date(`${day}T12:00:00.000Z`) });
    const records: AuditRecord[] = [];
    for (const next of ['2026-01-05', '2026-01-06', '2026-01-07']) {
      day = next;
      for (let index = 0; index < 3; index++) records.push(await log.append(sendEntry(records.length + 1)));
    }
    assert.deepEqual((await readdir(dir.path)).filter((name) => name.startsWith('audit-')).sort(), ['audit-2026-01-05.log', 'audit-2026-01-06.log', 'audit-2026-01-07.log']);
    await appendFile(join(dir.path, 'audit-2026-01-05.log'), 'not-a-record\n');
    assert.equal((await log.verify()).ok, false, 'the full verification sees the damage');
    assert.deepEqual(await log.verifyExtension(checkpointOf(records[4])), { ok: true, count: 4, head: checkpointOf(records[8]) });
    assert.deepEqual(await log.verifyExtension(checkpointOf(records[3])), { ok: true, count: 5, head: checkpointOf(records[8]) }, 'the first record of a day');
  });
});

async function breakOfExtension(log: AuditLog, checkpoint: { seq: number; hash: string }) {
  const result = await log.verifyExtension(checkpoint);
  assert.equal(result.ok, false, 'the extension check should fail');
  return result.ok ? undefined : { kind: result.break.kind, seq: result.break.seq };
}
