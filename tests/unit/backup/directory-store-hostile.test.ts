// The backup directory as someone with write access to it may have left it: a client directory that is a
// symbolic link (to another client's, or anywhere), a FIFO, a link or a directory under a backup's name.
// Nothing outside the client's own directory may be read, listed or deleted, and no read may hang.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';

const ACME = parseClientId('acme');
const ABCD = parseClientId('abcd');
const ID_1 = '20261201T031500Z-0a0b0c0d';
const ID_2 = '20261202T031500Z-0a0b0c0e';
const isIntegrity = (e: unknown) => isFleetError(e) && e.code === 'integrity';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'directory-store-hostile-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function store() {
  const root = await mkdtemp(join(work, 'root-'));
  return { root, backups: new DirectoryBackupStore({ root, logger: createSilentLogger() }) };
}

const content = (text: string): AsyncIterable<Uint8Array> => Readable.from([Buffer.from(text)]);

void describe('a client directory that is a symbolic link', () => {
  test('to any directory: erasing the client deletes nothing there, and the store refuses to use it', async () => {
    const { root, backups } = await store();
    const precious = await mkdtemp(join(work, 'precious-'));
    await writeFile(join(precious, 'registry.db'), 'the orchestrator’s own data');
    await writeFile(join(precious, `${ID_1}.afbk`), 'looks like a backup');
    await mkdir(root, { recursive: true });
    await symlink(precious, join(root, ACME));
    await assert.rejects(backups.deleteAll(ACME), isIntegrity);
    assert.deepEqual((await readdir(precious)).sort(), [`${ID_1}.afbk`, 'registry.db']);
    await assert.rejects(backups.list(ACME), isIntegrity);
    await assert.rejects(backups.get(ACME, ID_1), isIntegrity);
    await assert.rejects(backups.put(ACME, ID_2, content('new')), isIntegrity);
    assert.deepEqual((await readdir(precious)).sort(), [`${ID_1}.afbk`, 'registry.db'], 'nothing written through the link');
  });

  test("to another client's directory: pruning or erasing one client never deletes the other's backups", async () => {
    const { root, backups } = await store();
    await backups.put(ABCD, ID_1, content('abcd backup'));
    await symlink(join(root, ABCD), join(root, ACME));
    await assert.rejects(backups.delete(ACME, ID_1), isIntegrity);
    await assert.rejects(backups.deleteAll(ACME), isIntegrity);
    assert.deepEqual((await backups.list(ABCD)).map((b) => b.backupId), [ID_1]);
  });
});

void describe('entries under a backup name that are not backups', () => {
  test('a FIFO is not listed and a read of it is refused at once instead of waiting for a writer', async () => {
    const { root, backups } = await store();
    await backups.put(ACME, ID_1, content('real'));
    execFileSync('mkfifo', [join(root, ACME, `${ID_2}.afbk`)]);
    assert.deepEqual((await backups.list(ACME)).map((b) => b.backupId), [ID_1]);
    const outcome = await Promise.race([
      backups.get(ACME, ID_2).then(
        (stream) => {
          stream.destroy();
          return 'opened';
        },
        (error: unknown) => (isIntegrity(error) ? 'refused' : `failed: ${String(error)}`),
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2000).unref()),
    ]);
    assert.equal(outcome, 'refused');
    assert.equal(await backups.deleteAll(ACME), 1);
  });

  test("a link to another client's backup is not listed or read as this client's", async () => {
    const { root, backups } = await store();
    await backups.put(ABCD, ID_1, content('abcd backup'));
    await mkdir(join(root, ACME), { mode: 0o700 });
    await symlink(join(root, ABCD, `${ID_1}.afbk`), join(root, ACME, `${ID_1}.afbk`));
    assert.deepEqual(await backups.list(ACME), []);
    await assert.rejects(backups.get(ACME, ID_1), isIntegrity);
    assert.equal(await backups.deleteAll(ACME), 0);
    assert.deepEqual((await backups.list(ABCD)).map((b) => b.backupId), [ID_1], 'the link went, its target stayed');
  });

  test('a directory under a backup name is not listed, and does not stop the erasure of the client', async () => {
    const { root, backups } = await store();
    await backups.put(ACME, ID_1, content('real'));
    await mkdir(join(root, ACME, `${ID_2}.afbk`, 'inner'), { recursive: true });
    await writeFile(join(root, ACME, `${ID_2}.afbk`, 'inner', 'file'), 'x');
    assert.deepEqual((await backups.list(ACME)).map((b) => b.backupId), [ID_1]);
    assert.equal(await backups.deleteAll(ACME), 1);
    assert.deepEqual(await readdir(root), []);
  });
});
