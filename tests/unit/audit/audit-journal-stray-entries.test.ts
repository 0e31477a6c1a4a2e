// An encrypted journal removes the temp files a crashed compaction left, and only those: a directory (or a
// FIFO) planted under a temp file's name in the volume is left alone, and the journal still opens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { dataKey, temporaryDirectory } from './helpers.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('entries named like a compaction temp file', () => {
  it('a planted directory and FIFO are left alone, a stale temp file is removed, and the journal opens', async () => {
    const dir = await temporaryDirectory('audit-journal-stray');
    cleanups.push(dir.remove);
    const keys = KeyRing.single(dataKey());
    const options = { directory: dir.path, file: 'state.log', purpose: 'state' as const, keys, parse: (value: unknown) => value };
    const first = await EncryptedJournal.open(options);
    await first.journal.append({ note: 'kept' });
    await first.journal.close();
    await mkdir(join(dir.path, 'state.log.tmp-planted-dir', 'inside'), { recursive: true });
    execFileSync('mkfifo', [join(dir.path, 'state.log.tmp-planted-fifo')]);
    await writeFile(join(dir.path, 'state.log.tmp-0123456789ab'), 'left by a crash');

    const reopened = await EncryptedJournal.open(options);
    assert.deepEqual(reopened.events, [{ note: 'kept' }]);
    await reopened.journal.close();
    assert.ok((await lstat(join(dir.path, 'state.log.tmp-planted-dir'))).isDirectory());
    assert.ok((await lstat(join(dir.path, 'state.log.tmp-planted-fifo'))).isFIFO());
    await assert.rejects(lstat(join(dir.path, 'state.log.tmp-0123456789ab')), { code: 'ENOENT' });
  });
});
