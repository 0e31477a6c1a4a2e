import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readRegularFile, writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';

let directory: string;
before(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'atomic-write-'));
});
after(() => rm(directory, { recursive: true, force: true }));

void test('a write that fails before its rename (an I/O error at fsync) leaves the old file and no temp file', async (t) => {
  const file = path.join(directory, 'ops-log-head.json');
  await writeFileAtomically(file, 'old\n');
  const probe = await open(file, 'r');
  const fileHandle = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const failing = t.mock.method(fileHandle, 'sync', () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })));
  for (let attempt = 0; attempt < 3; attempt++) await assert.rejects(writeFileAtomically(file, 'new\n'), /EIO/);
  failing.mock.restore();
  assert.equal(await readFile(file, 'utf8'), 'old\n');
  assert.deepEqual(await readdir(directory), ['ops-log-head.json']);
});

void test('a checkpoint-sized read takes only a regular file: a link, a FIFO, a directory or an oversized file is refused at once', async () => {
  const base = path.join(directory, 'reads');
  await mkdir(base);
  const regular = path.join(base, 'regular');
  await writeFile(regular, '{"seq":1}\n');
  assert.equal((await readRegularFile(regular, { maxBytes: 64 }))?.toString('utf8'), '{"seq":1}\n');
  assert.equal(await readRegularFile(path.join(base, 'missing'), { maxBytes: 64 }), null);

  const refused = (target: string, why: RegExp) =>
    assert.rejects(readRegularFile(target, { maxBytes: 64 }), (error: unknown) => isFleetError(error) && error.code === 'integrity' && why.test(error.message));
  const link = path.join(base, 'link');
  await symlink(regular, link);
  await refused(link, /symbolic link/);
  const fifo = path.join(base, 'fifo');
  execFileSync('mkfifo', [fifo]);
  await refused(fifo, /not a regular file/);
  await refused(base, /not a regular file/);
  const devices = path.join(base, 'zero');
  await symlink('/dev/zero', devices);
  await refused(devices, /symbolic link/);
  const large = path.join(base, 'large');
  await writeFile(large, 'x'.repeat(65));
  await refused(large, /larger than 64 bytes/);
  assert.equal((await readRegularFile(large, { maxBytes: 65 }))?.length, 65);
});
