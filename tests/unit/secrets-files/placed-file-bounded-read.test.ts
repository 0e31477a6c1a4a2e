// The one reader of files placed for a process (kernel/src/storage/bounded-file-read.ts), shared by the
// orchestrator and the agent: links are followed (Kubernetes Secret mounts), and what they lead to must be a
// regular file within its bound, or a FIFO would hang the reader and /dev/zero flood it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isMissingFile, readBoundedTextFile, readBoundedTextFileIfPresent } from '@agent-fleet/kernel/bounded-file-read';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { refused } from '../../helpers/refused.ts';

describe('bounded reads of placed files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'placed-file-read-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('a file of exactly the bound is read whole, through a link; one byte more is refused by name', async () => {
    await writeFile(path.join(dir, 'full'), 'x'.repeat(64));
    await symlink('full', path.join(dir, 'full-link'));
    assert.equal(await readBoundedTextFile(path.join(dir, 'full-link'), { maxBytes: 64 }), 'x'.repeat(64));
    await writeFile(path.join(dir, 'over'), 'x'.repeat(65));
    await refused(readBoundedTextFile(path.join(dir, 'over'), { maxBytes: 64, what: 'the test file' }), 'invalid_input', /^the test file is larger than 64 bytes$/);
  });

  test('a file longer than its stat said (it grew, or the kernel sizes it 0) is read whole up to the bound and refused past it', async () => {
    // /proc files are regular files whose stat size is 0 whatever they hold.
    const status = await readBoundedTextFile('/proc/self/status', { maxBytes: 256 * 1024 });
    assert.match(status, /^Name:/);
    assert.ok(status.length > 64, 'the whole file, not the zero bytes stat gave');
    await refused(readBoundedTextFile('/proc/self/status', { maxBytes: 64, what: 'the status file' }), 'invalid_input', /^the status file is larger than 64 bytes$/);
  });

  test('an empty file is empty text', async () => {
    await writeFile(path.join(dir, 'empty'), '');
    assert.equal(await readBoundedTextFile(path.join(dir, 'empty'), { maxBytes: 64 }), '');
  });

  test('a device, a FIFO and a directory are refused at once as not regular files', { timeout: 10_000 }, async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    for (const file of ['/dev/zero', fifo, dir]) {
      await refused(readBoundedTextFile(file, { maxBytes: 1024 }), 'invalid_input', /is not a regular file/);
    }
  });

  test('text that is not UTF-8 is refused', async () => {
    await writeFile(path.join(dir, 'latin1'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    await refused(readBoundedTextFile(path.join(dir, 'latin1'), { maxBytes: 64 }), 'invalid_input', /is not UTF-8 text/);
  });

  test('a missing file is unavailable and says so; the if-present read gives null', async () => {
    const missing = path.join(dir, 'missing');
    await assert.rejects(readBoundedTextFile(missing, { maxBytes: 64 }), (error: unknown) => isFleetError(error) && error.code === 'unavailable' && isMissingFile(error));
    assert.equal(await readBoundedTextFileIfPresent(missing, { maxBytes: 64 }), null);
    await refused(readBoundedTextFileIfPresent('/dev/zero', { maxBytes: 64 }), 'invalid_input', /is not a regular file/);
  });
});
