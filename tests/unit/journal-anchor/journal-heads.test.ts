// The heads of the encrypted journals as recorded outside the volume: read from the file as it is durable,
// held across a compaction (which would otherwise start the seqs over and lose the anchored line), and a
// compacted journal whose first lines were cut off is still refused.
import { type JournalHead } from '@agent-fleet/kernel/journal-anchor';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { journalHolding, readDurableJournalHead, storedLineDigest } from '../../../agent-image/src/services/audit-log/journal-heads.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { JournalAnchorKeeper } from '../../../agent-image/src/services/runtime/journal-anchor-keeper.ts';
import { journalDirectories, noteJournalOptions, type Note } from '../../helpers/note-journal.ts';

const journalDir = journalDirectories('journal-heads');

function options(directory: string, keys: KeyRing, compactAbove?: number) {
  return {
    ...noteJournalOptions(directory, keys),
    // Only the last note counts: a compaction keeps it alone.
    snapshot: (events: Note[]) => events.slice(-1),
    ...(compactAbove === undefined ? {} : { compactAbove }),
  };
}

async function write(directory: string, keys: KeyRing, notes: Note[]): Promise<void> {
  const { journal } = await EncryptedJournal.open(options(directory, keys));
  for (const note of notes) await journal.append(note);
  await journal.close();
}

async function lines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('journal heads', () => {
  it('the durable head is the last whole line: a write still without its newline does not count', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    // A note larger than one backward read, so the line is found across chunks.
    await write(dir, keys, [{ n: 1 }, { n: 2, text: 'x'.repeat(200_000) }]);
    const path = join(dir, 'notes.log');
    const last = (await lines(path)).at(-1) ?? '';
    assert.deepEqual(await readDurableJournalHead(path, keys, 'state'), { seq: 2, hash: storedLineDigest(last) });
    await appendFile(path, 'AAAA-half-a-line');
    assert.deepEqual(await readDurableJournalHead(path, keys, 'state'), { seq: 2, hash: storedLineDigest(last) });
    assert.equal(await readDurableJournalHead(join(dir, 'absent.log'), keys, 'state'), null);
  });

  it('a compaction numbers on from the head it replaced, and the compacted file still holds that head', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, Array.from({ length: 12 }, (_, index) => ({ n: index + 1 })));
    const path = join(dir, 'notes.log');
    const anchored: JournalHead = { seq: 12, hash: storedLineDigest((await lines(path)).at(-1) ?? '') };

    const compacted = await EncryptedJournal.open(options(dir, keys, 4));
    assert.deepEqual(compacted.events, [{ n: 12 }]);
    assert.equal((await lines(path)).length, 2, 'a marker and the one note kept');
    // A crash right after the compaction, before the new head was recorded: the old record still holds.
    assert.deepEqual(await journalHolding(path, keys, 'state', anchored), { holds: true, head: { seq: 13, hash: storedLineDigest((await lines(path)).at(-1) ?? '') } });
    await compacted.journal.append({ n: 13 });
    await compacted.journal.close();

    const reopened = await EncryptedJournal.open(options(dir, keys));
    assert.deepEqual(reopened.events, [{ n: 12 }, { n: 13 }]);
    await reopened.journal.close();
    assert.equal((await readDurableJournalHead(path, keys, 'state'))?.seq, 14, 'seqs never go back');
  });

  it('a compacted journal with its first lines cut off is refused at open', async () => {
    const dir = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, Array.from({ length: 12 }, (_, index) => ({ n: index + 1 })));
    const compacted = await EncryptedJournal.open(options(dir, keys, 4));
    await compacted.journal.append({ n: 13 });
    await compacted.journal.close();
    const path = join(dir, 'notes.log');
    await writeFile(path, `${(await lines(path)).slice(1).join('\n')}\n`);
    await assert.rejects(EncryptedJournal.open(options(dir, keys)), (error: unknown) => isFleetError(error) && error.code === 'integrity');
  });

  it('an older copy with as many events is told from the anchored journal', async () => {
    const dir = await journalDir();
    const older = await journalDir();
    const keys = KeyRing.single(randomBytes(32));
    await write(dir, keys, [{ n: 1 }, { n: 2 }]);
    await write(older, keys, [{ n: 1 }, { n: 20 }]);
    const anchored = await readDurableJournalHead(join(dir, 'notes.log'), keys, 'state');
    assert.ok(anchored !== null);
    assert.equal((await journalHolding(join(older, 'notes.log'), keys, 'state', anchored)).holds, false);
    assert.equal((await journalHolding(join(dir, 'notes.log'), keys, 'state', anchored)).holds, true);
  });
});

function recordingLogger(levels: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (message) => levels.push(`info: ${message}`),
    warn: (message) => levels.push(`warn: ${message}`),
    error: (message) => levels.push(`error: ${message}`),
    child: () => logger,
  };
  return logger;
}

describe('the journal anchor keeper', () => {
  it('writes only when a head moved, retries a failed write with backoff, and says so until it recovers', async () => {
    let head: JournalHead = { seq: 1, hash: 'a'.repeat(64) };
    const written: unknown[] = [];
    let down = true;
    let clock = Date.parse('2026-12-06T10:00:00Z');
    const logged: string[] = [];
    const keeper = new JournalAnchorKeeper({
      store: {
        write: async (heads) => {
          if (down) throw new FleetError('unavailable', 'vault: write secret failed: connection refused', { retryable: true });
          written.push(heads);
        },
      },
      journals: [{ name: 'audit', head: async () => head }],
      intervalMs: 5,
      maxBackoffMs: 20,
      errorAfterMs: 60_000,
      now: () => new Date(clock),
      logger: recordingLogger(logged),
    });
    keeper.start();
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(written, []);
    assert.deepEqual(logged, ['warn: recording the journal heads in Vault failed; retrying'], 'warned once, not at every retry');
    clock += 61_000;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(logged.filter((line) => line.startsWith('error:')).length, 1, 'an outage that lasts is an error, once');
    assert.ok(keeper.failingFrom !== null);
    down = false;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.deepEqual(written, [{ audit: { seq: 1, hash: 'a'.repeat(64) } }], 'written once it could be, then not again while nothing moved');
    assert.equal(logged.at(-1), 'info: the journal heads are recorded in Vault again');
    head = { seq: 2, hash: 'b'.repeat(64) };
    await keeper.stop();
    assert.equal(written.length, 2, 'the last heads are written at stop');
  });

  it('keeps trying through a kill: once a revival brings a new token, the heads are recorded again', async () => {
    let revoked = true;
    const written: unknown[] = [];
    const keeper = new JournalAnchorKeeper({
      store: {
        write: async (heads) => {
          if (revoked) throw new FleetError('killed', 'write secret: the secret store revoked this agent');
          written.push(heads);
        },
      },
      journals: [{ name: 'audit', head: async () => ({ seq: 3, hash: 'c'.repeat(64) }) }],
      intervalMs: 5,
      maxBackoffMs: 10,
      now: () => new Date(),
      logger: recordingLogger([]),
    });
    keeper.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    revoked = false;
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(written, [{ audit: { seq: 3, hash: 'c'.repeat(64) } }], 'recorded by the periodic write, not only at stop');
    await keeper.stop();
  });

  it('a last write that fails at stop is logged, not thrown, and a revoked token stops it quietly', async () => {
    for (const [error, expected] of [
      [new FleetError('unavailable', 'vault: write secret failed: connection refused', { retryable: true }), 1],
      [new FleetError('killed', 'write secret: the secret store revoked this agent'), 0],
    ] as const) {
      const logged: string[] = [];
      const keeper = new JournalAnchorKeeper({
        store: {
          write: async () => {
            throw error;
          },
        },
        journals: [{ name: 'audit', head: async () => ({ seq: 1, hash: 'a'.repeat(64) }) }],
        now: () => new Date(),
        logger: recordingLogger(logged),
      });
      await keeper.stop();
      assert.equal(logged.filter((line) => line.startsWith('error:')).length, expected);
    }
  });
});
