import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyChain } from '../../../agent-image/src/domain/audit-chain.ts';
import { chainRecord, type AuditEntry } from '../../../agent-image/src/domain/audit-record.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { dataKey, readLines, sendEntry, temporaryDirectory, writeLines } from './helpers.ts';

/**
 * Audit logs damaged in ways the chain alone does not show: lines moved between day files (no key
 * needed), bytes left after the last line of an older day, range bounds that string comparison gets
 * wrong, parameters nested as deep as the hash allows, checkpoints that name no record.
 */

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A log with records 1–2 on 2026-01-07 and 3–4 on 2026-01-08, closed. */
async function twoDayLog() {
  const dir = await temporaryDirectory('audit-tamper');
  cleanups.push(dir.remove);
  const key = dataKey();
  let now = new Date('2026-01-07T12:00:00.000Z');
  const log = await AuditLog.open({ directory: dir.path, keys: key, now: () => now });
  await log.append(sendEntry(1));
  await log.append(sendEntry(2));
  now = new Date('2026-01-08T12:00:00.000Z');
  await log.append(sendEntry(3));
  await log.append(sendEntry(4));
  await log.close();
  const first = join(dir.path, 'audit-2026-01-07.log');
  const second = join(dir.path, 'audit-2026-01-08.log');
  return { dir: dir.path, key, log, first, second };
}

describe('audit log: damage the chain order does not show', () => {
  it('a record moved into the previous day file (chain order intact, no key needed) fails verification', async () => {
    const { log, first, second } = await twoDayLog();
    const [moved, ...rest] = await readLines(second);
    await appendFile(first, `${moved}\n`);
    await writeLines(second, rest);
    // The move hides record 3 from every read that starts on its own day.
    const sinceItsDay = await log.read({ since: new Date('2026-01-08T00:00:00.000Z') });
    assert.deepEqual(
      sinceItsDay.map((record) => record.seq),
      [4],
    );
    const result = await log.verify();
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.break.seq, 3);
      assert.match(result.break.message, /dated 2026-01-08 but is in audit-2026-01-07\.log/);
    }
    const extension = await log.verifyExtension({ seq: 1, hash: (await log.read())[0]?.hash ?? '' });
    assert.equal(extension.ok, false);
  });

  it('bytes after the last line of an older day file fail verification; the log reopens as before', async () => {
    const { dir, key, log, first } = await twoDayLog();
    assert.equal((await log.verify()).ok, true);
    await appendFile(first, 'appended-without-newline');
    const result = await log.verify();
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.break.kind, 'malformed');
      assert.match(result.break.message, /audit-2026-01-07\.log ends with 24 bytes/);
    }
    const reopened = await AuditLog.open({ directory: dir, keys: key });
    assert.equal(reopened.tornTail, null, 'only the newest file is repaired on open');
    await reopened.close();
    assert.match(await readFile(first, 'utf8'), /appended-without-newline$/);
  });

  it('range bounds compare instants: short fractions and years past 9999 are bounded correctly', async () => {
    const dir = await temporaryDirectory('audit-range');
    cleanups.push(dir.remove);
    const log = await AuditLog.open({ directory: dir.path, keys: dataKey() });
    await log.append({ ...sendEntry(1), timestamp: '2026-01-07T10:30:00.5Z' });
    await log.append({ ...sendEntry(2), timestamp: '2026-01-07T10:30:01Z' });
    const inclusive = await log.read({
      since: new Date('2026-01-07T10:30:00.500Z'),
      until: new Date('2026-01-07T10:30:01.000Z'),
    });
    assert.deepEqual(
      inclusive.map((record) => record.seq),
      [1, 2],
    );
    const beforeHalf = await log.read({ until: new Date('2026-01-07T10:30:00.499Z') });
    assert.deepEqual(beforeHalf, []);
    const farFuture = await log.read({ until: new Date('9999-12-31T23:00:00.000-05:00') });
    assert.deepEqual(
      farFuture.map((record) => record.seq),
      [1, 2],
    );
    await log.close();
  });

  it('parameters nested deeper than the record hash can take are refused as bad input, asynchronously', async () => {
    const dir = await temporaryDirectory('audit-deep');
    cleanups.push(dir.remove);
    const log = await AuditLog.open({ directory: dir.path, keys: dataKey() });
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let level = 0; level < 63; level++) deep = { d: deep };
    let appended: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      appended = log.append({ ...sendEntry(1), parameters: deep as AuditEntry['parameters'] });
    });
    await assert.rejects(
      appended as Promise<unknown>,
      (error: unknown) => error instanceof FleetError && error.code === 'invalid_input' && /parameters/.test(error.message),
    );
    const ok = await log.append(sendEntry(2));
    assert.equal(ok.seq, 1, 'the refused entry took no seq');
    assert.equal((await log.verify()).ok, true);
    await log.close();
  });

  it('a checkpoint that names no record (seq 0, fractional, NaN, bad hash) is refused, not passed', () => {
    const entry: AuditEntry = { ...sendEntry(1), timestamp: '2026-01-07T10:30:00.000Z', content_hash: null };
    const one = chainRecord(entry, null);
    const two = chainRecord(entry, one);
    for (const checkpoint of [
      { seq: 1.5, hash: 'f'.repeat(64) },
      { seq: 0, hash: 'f'.repeat(64) },
      { seq: Number.NaN, hash: 'f'.repeat(64) },
      { seq: 1, hash: 'F'.repeat(64) },
    ]) {
      assert.throws(
        () => verifyChain([one, two], checkpoint),
        (error: unknown) => error instanceof FleetError && error.code === 'invalid_input',
        JSON.stringify(checkpoint),
      );
    }
    assert.equal(verifyChain([one, two], { seq: 2, hash: two.hash }).ok, true);
  });

  it('a verification given a malformed checkpoint rejects instead of reporting a valid chain', async () => {
    const { log } = await twoDayLog();
    await assert.rejects(
      log.verify({ checkpoint: { seq: 2.5, hash: 'a'.repeat(64) } }),
      (error: unknown) => error instanceof FleetError && error.code === 'invalid_input',
    );
  });
});
