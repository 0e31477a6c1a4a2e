// A journal directory of the volume planted as a symbolic link (pointing outside the volume), or a file
// where the directory should be, is refused: O_NOFOLLOW on the journal files guards only their last path
// component, so through a linked directory the agent would read, append to and cut back files elsewhere.
import assert from 'node:assert/strict';
import { mkdir, readdir, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { journalHolding } from '../../../agent-image/src/services/audit-log/journal-heads.ts';
import { VolumeReader } from '../../../agent-image/src/services/data-export/volume-reader.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { dataKey, sendEntry, temporaryDirectory } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const isIntegrity = (error: unknown) => error instanceof FleetError && error.code === 'integrity';

/** A volume and, beside it, a directory outside it that a planted link points to. */
async function volumeWithOutside(): Promise<{ volume: string; outside: string }> {
  const root = await temporaryDirectory('audit-linked-dir');
  cleanups.push(root.remove);
  const volume = join(root.path, 'volume');
  const outside = join(root.path, 'outside');
  await mkdir(volume);
  await mkdir(outside);
  return { volume, outside };
}

describe('journal directories planted as links or files', () => {
  it('an audit directory that is a link out of the volume is refused at open, and nothing is written through it', async () => {
    const { volume, outside } = await volumeWithOutside();
    await symlink(outside, join(volume, 'audit'));
    await assert.rejects(AuditLog.open({ directory: join(volume, 'audit'), keys: dataKey() }), isIntegrity);
    assert.deepEqual(await readdir(outside), []);
  });

  it('an audit directory that is a file is refused with an integrity error', async () => {
    const { volume } = await volumeWithOutside();
    await writeFile(join(volume, 'audit'), 'not a directory');
    await assert.rejects(AuditLog.open({ directory: join(volume, 'audit'), keys: dataKey() }), isIntegrity);
  });

  it('a directory replaced by a link while the log is open gets no new day file through the link', async () => {
    const { volume, outside } = await volumeWithOutside();
    const directory = join(volume, 'audit');
    let now = new Date('2026-03-01T10:00:00Z');
    const log = await AuditLog.open({ directory, keys: dataKey(), now: () => now });
    await log.append(sendEntry(1));
    await rename(directory, join(volume, 'audit-moved'));
    await symlink(outside, directory);
    now = new Date('2026-03-02T10:00:00Z');
    await assert.rejects(log.append(sendEntry(2)));
    await log.close();
    assert.deepEqual(await readdir(outside), []);
  });

  it('a state directory that is a link is refused by the journal, by the anchor check and by the export', async () => {
    const { volume, outside } = await volumeWithOutside();
    const keys = KeyRing.single(dataKey());
    const elsewhere = await EncryptedJournal.open({ directory: outside, file: 'approvals.log', purpose: 'state', keys, parse: (value) => value });
    await elsewhere.journal.append({ record: { id: 'a1', createdAt: '2026-03-01T10:00:00.000Z' } });
    await elsewhere.journal.close();
    const state = join(volume, 'state');
    await symlink(outside, state);

    await assert.rejects(EncryptedJournal.open({ directory: state, file: 'approvals.log', purpose: 'state', keys, parse: (value) => value }), isIntegrity);
    await assert.rejects(journalHolding(join(state, 'approvals.log'), keys, 'state', { seq: 1, hash: '0'.repeat(64) }), isIntegrity);
    await assert.rejects(new VolumeReader(volume, keys).approvals(), isIntegrity);
  });

  it('the export refuses an audit directory that is a link', async () => {
    const { volume, outside } = await volumeWithOutside();
    const key = dataKey();
    const log = await AuditLog.open({ directory: outside, keys: key });
    await log.append(sendEntry(1));
    await log.close();
    await symlink(outside, join(volume, 'audit'));
    const reading = (async () => {
      for await (const record of new VolumeReader(volume, KeyRing.single(key)).auditRecords()) assert.ok(record);
    })();
    await assert.rejects(reading, isIntegrity);
  });
});
