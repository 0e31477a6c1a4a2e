// A journal put back under the running agent (an older copy, a cut-back file, a deleted one): the anchor
// keeper must not record the rolled-back head in Vault, or the next open would accept the rollback.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AnchoredHeads, JournalHead } from '@agent-fleet/kernel/journal-anchor';
import type { Logger } from '@agent-fleet/kernel/logger';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { JournalAnchorKeeper } from '../../../agent-image/src/services/runtime/journal-anchor-keeper.ts';
import { checkJournalsHoldAnchors, fileJournal, type VolumeJournal } from '../../../agent-image/src/services/runtime/volume-journals.ts';
import { journalDirectories, noteJournalOptions, type Note } from '../../helpers/note-journal.ts';

const journalDir = journalDirectories('anchor-rollback');

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message) => lines.push(`error: ${message}`),
    child: () => logger,
  };
  return logger;
}

async function append(directory: string, keys: KeyRing, notes: Note[]): Promise<void> {
  const { journal } = await EncryptedJournal.open(noteJournalOptions(directory, keys));
  for (const note of notes) await journal.append(note);
  await journal.close();
}

/** A notes journal with three events, an older copy of it holding the first one, and a keeper over it. */
async function keptJournal() {
  const dir = await journalDir();
  const keys = KeyRing.single(randomBytes(32));
  const path = join(dir, 'notes.log');
  await append(dir, keys, [{ n: 1 }]);
  const olderCopy = join(dir, 'older-copy');
  await copyFile(path, olderCopy);
  await append(dir, keys, [{ n: 2 }, { n: 3 }]);
  const journal: VolumeJournal = { name: 'notes', path, purpose: 'state' };
  const written: AnchoredHeads[] = [];
  const logged: string[] = [];
  const keeper = new JournalAnchorKeeper({
    store: { write: async (heads) => void written.push(heads) },
    journals: [fileJournal(journal, keys)],
    now: () => new Date('2026-12-06T10:00:00Z'),
    logger: recordingLogger(logged),
  });
  return { dir, keys, path, olderCopy, journal, keeper, written, logged };
}

describe('the journal anchor keeper when a journal goes back under the running agent', () => {
  it('an older copy put in place keeps the recorded head in Vault, so the next open refuses the volume', async () => {
    const { keys, path, olderCopy, journal, keeper, written, logged } = await keptJournal();
    await keeper.flush();
    const recorded = written.at(-1)?.['notes'];
    assert.equal(recorded?.seq, 3);
    await copyFile(olderCopy, path);
    await keeper.stop();
    assert.deepEqual(written.at(-1)?.['notes'], recorded, 'the anchor does not move back to the older copy');
    assert.deepEqual(keeper.rolledBack, ['notes']);
    assert.equal(logged.filter((line) => line.startsWith('error: the notes journal went back')).length, 1);
    const check = await checkJournalsHoldAnchors([journal], keys, written.at(-1) ?? {});
    assert.equal(check.ok, false, 'the open after the rollback refuses it');
  });

  it('a journal deleted under the agent keeps its recorded head instead of dropping it', async () => {
    const { path, keeper, written } = await keptJournal();
    await keeper.flush();
    await rm(path);
    await keeper.stop();
    assert.equal(written.at(-1)?.['notes']?.seq, 3);
  });

  it('a journal cut back to fewer lines keeps its recorded head', async () => {
    const { path, keeper, written } = await keptJournal();
    await keeper.flush();
    await writeFile(path, '');
    await keeper.flush();
    assert.equal(written.at(-1)?.['notes']?.seq, 3);
    await keeper.stop();
  });

  it('another line at a recorded seq is a rollback too; a head that moves on is recorded as before', async () => {
    const hash = (character: string) => character.repeat(64);
    let head: JournalHead = { seq: 4, hash: hash('a') };
    const written: AnchoredHeads[] = [];
    const logged: string[] = [];
    const keeper = new JournalAnchorKeeper({
      store: { write: async (heads) => void written.push(heads) },
      journals: [{ name: 'outbox', head: async () => head }, { name: 'audit', head: async () => ({ seq: 9, hash: hash('9') }) }],
      now: () => new Date('2026-12-06T10:00:00Z'),
      logger: recordingLogger(logged),
    });
    await keeper.flush();
    head = { seq: 4, hash: hash('b') };
    await keeper.flush();
    assert.equal(written.length, 1, 'nothing new to record: the outbox keeps its recorded head');
    head = { seq: 5, hash: hash('c') };
    await keeper.flush();
    assert.deepEqual(written.at(-1), { outbox: { seq: 5, hash: hash('c') }, audit: { seq: 9, hash: hash('9') } });
    await keeper.stop();
  });
});
