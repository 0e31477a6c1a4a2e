import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { journalDirectories, noteJournalOptions, type Note } from '../../helpers/note-journal.ts';

const journalDir = journalDirectories('journal');
const options = noteJournalOptions;

async function write(directory: string, keys: KeyRing, count: number): Promise<void> {
  const { journal } = await EncryptedJournal.open(options(directory, keys));
  for (let n = 1; n <= count; n++) await journal.append({ n });
  await journal.close();
}

const integrity = (error: unknown) => isFleetError(error) && error.code === 'integrity';

describe('encrypted journal under crashes and hostile files', () => {
  it('an event its own reader would refuse is not written: the journal opens again, the refusal says why', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    const { journal } = await EncryptedJournal.open<Note | { n: string }>(options(dir, keys));
    await journal.append({ n: 1 });
    await assert.rejects(journal.append({ n: 'x'.repeat(2000) }), (error: unknown) => isFleetError(error) && error.code === 'invalid_input' && /reader would refuse/.test(error.message));
    await journal.append({ n: 3 });
    await journal.close();
    const reopened = await EncryptedJournal.open(options(dir, keys));
    assert.deepEqual(reopened.events, [{ n: 1 }, { n: 3 }]);
    await reopened.journal.close();
  });

  it('an event that cannot be written does not use up a seq: the journal still opens afterwards', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    const { journal } = await EncryptedJournal.open<Note | { n: bigint }>({ ...options(dir, keys), parse: (value) => value as Note });
    await journal.append({ n: 1 });
    await assert.rejects(journal.append({ n: 2n }));
    await journal.append({ n: 3 });
    await journal.close();
    const reopened = await EncryptedJournal.open(options(dir, keys));
    assert.deepEqual(reopened.events, [{ n: 1 }, { n: 3 }]);
    await reopened.journal.close();
  });

  it('a journal far larger than memory should hold is refused at its first over-long line, without reading it whole', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, 2);
    // Sparse: 3 GiB of zero bytes after the two records, no newline, no disk used.
    const path = join(dir, 'notes.log');
    await truncate(path, (await stat(path)).size + 3 * 1024 ** 3);
    const before = process.memoryUsage().rss;
    await assert.rejects(EncryptedJournal.open(options(dir, keys)), integrity);
    assert.ok(process.memoryUsage().rss - before < 1024 ** 3, 'opening read the file into memory');
  });

  it('a torn last record is moved aside byte for byte and the earlier records are kept', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, 3);
    const path = join(dir, 'notes.log');
    const torn = Buffer.from([0x51, 0x55, 0xff, 0xfe, 0x41]);
    await appendFile(path, torn);
    const opened = await EncryptedJournal.open(options(dir, keys));
    assert.deepEqual(opened.events, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    assert.equal(opened.torn?.kept, false);
    assert.deepEqual(await readFile(opened.torn?.quarantinedTo as string), torn);
    await opened.journal.append({ n: 4 });
    await opened.journal.close();
    assert.deepEqual((await EncryptedJournal.open(options(dir, keys))).events.map((note) => note.n), [1, 2, 3, 4]);
  });

  it('two torn tails found with the clock set back keep both quarantined copies', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, 1);
    const path = join(dir, 'notes.log');
    const stopped = () => new Date(1_000_000);
    for (const tail of ['QUFB', 'QkJC']) {
      await appendFile(path, tail);
      const opened = await EncryptedJournal.open({ ...options(dir, keys), now: stopped });
      await opened.journal.close();
    }
    const quarantined = (await readdir(dir)).filter((name) => name.includes('.torn-'));
    assert.equal(quarantined.length, 2);
  });

  it('a record duplicated, reordered or encrypted under another client’s key stops the open', async () => {
    const keys = KeyRing.single(randomBytes(32));
    const dir = await journalDir();
    await write(dir, keys, 3);
    const lines = (await readFile(join(dir, 'notes.log'), 'utf8')).trimEnd().split('\n');
    const foreignDir = await journalDir();
    await write(foreignDir, KeyRing.single(randomBytes(32)), 3);
    const foreign = (await readFile(join(foreignDir, 'notes.log'), 'utf8')).trimEnd().split('\n');
    const variants = [
      [lines[0], lines[1], lines[1], lines[2]],
      [lines[0], lines[2], lines[1]],
      [lines[0], foreign[1], lines[2]],
      foreign,
    ];
    for (const variant of variants) {
      await writeFile(join(dir, 'notes.log'), `${variant.join('\n')}\n`);
      await assert.rejects(EncryptedJournal.open(options(dir, keys)), integrity);
    }
  });

  it('a compaction that fails leaves no temp file, and one a crash left is removed at the next open', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, 6);
    const failing = { ...options(dir, keys), compactAbove: 4, snapshot: () => [{ n: 1n }] as unknown as Note[] };
    await assert.rejects(EncryptedJournal.open(failing));
    assert.deepEqual((await readdir(dir)).sort(), ['notes.log']);

    await writeFile(join(dir, 'notes.log.tmp-0123456789ab'), 'left by a crash');
    const opened = await EncryptedJournal.open(options(dir, keys));
    assert.equal(opened.events.length, 6);
    assert.deepEqual((await readdir(dir)).sort(), ['notes.log']);
    await opened.journal.close();
  });
});
