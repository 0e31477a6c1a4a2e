import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { DirectoryBackupStore } from '../../../orchestrator/src/adapters/backup-directory/directory-backup-store.ts';

const acme = parseClientId('acme');
const globex = parseClientId('globex');
const ID_1 = '20261201T030000Z-00000001';
const ID_2 = '20261202T030000Z-00000002';

async function* bytes(...parts: string[]): AsyncGenerator<Buffer> {
  for (const part of parts) yield Buffer.from(part);
}

async function read(stream: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

const code = (expected: string) => (e: unknown) => isFleetError(e) && e.code === expected;

void describe('directory backup store', () => {
  let root: string;
  let store: DirectoryBackupStore;

  before(async () => {
    root = join(await mkdtemp(join(tmpdir(), 'backup-store-')), 'backups');
    store = new DirectoryBackupStore({ root, logger: createSilentLogger() });
  });
  after(async () => {
    await rm(join(root, '..'), { recursive: true, force: true });
  });

  void test('put stores owner-only files in an owner-only directory per client, listed oldest first', async () => {
    const second = await store.put(acme, ID_2, bytes('second ', 'backup'));
    const first = await store.put(acme, ID_1, bytes('first'));
    assert.deepEqual(first, {
      clientId: acme,
      backupId: ID_1,
      createdAt: '2026-12-01T03:00:00.000Z',
      sizeBytes: 5,
    });
    assert.equal(second.sizeBytes, 13);
    assert.deepEqual(
      (await store.list(acme)).map((b) => b.backupId),
      [ID_1, ID_2],
    );
    assert.equal((await stat(join(root, 'acme'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(root, 'acme', `${ID_1}.afbk`))).mode & 0o777, 0o600);
    assert.equal(await read(await store.get(acme, ID_2)), 'second backup');
    assert.deepEqual(await store.list(globex), []);
  });

  void test('an existing id is a conflict and the stored backup is untouched', async () => {
    await assert.rejects(store.put(acme, ID_1, bytes('replacement')), code('conflict'));
    assert.equal(await read(await store.get(acme, ID_1)), 'first');
    assert.deepEqual((await readdir(join(root, 'acme'))).sort(), [`${ID_1}.afbk`, `${ID_2}.afbk`]);
  });

  void test('a stream that fails midway leaves nothing: no backup, no temp file', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(100_000, 1);
      throw new Error('snapshot aborted');
    }
    const id = '20261203T030000Z-00000003';
    await assert.rejects(store.put(acme, id, failing()), /snapshot aborted/);
    assert.deepEqual((await readdir(join(root, 'acme'))).sort(), [`${ID_1}.afbk`, `${ID_2}.afbk`]);
    await assert.rejects(store.get(acme, id), code('not_found'));
  });

  void test('ids and client ids that could name another path are refused', async () => {
    for (const backupId of ['../x', `../acme/${ID_1}`, '20261203T030000Z-0000000/']) {
      await assert.rejects(store.put(acme, backupId, bytes('x')), code('invalid_input'), backupId);
      await assert.rejects(store.get(acme, backupId), code('invalid_input'), backupId);
    }
    await assert.rejects(store.list('../etc' as never), code('invalid_input'));
  });

  void test('files that are not backups are not listed; get of a missing backup is not_found', async () => {
    await writeFile(join(root, 'acme', 'notes.txt'), 'x');
    await writeFile(join(root, 'acme', `.${ID_1}.afbk.tmp-abc`), 'x');
    assert.deepEqual(
      (await store.list(acme)).map((b) => b.backupId),
      [ID_1, ID_2],
    );
    await assert.rejects(store.get(globex, ID_1), code('not_found'));
  });

  void test('delete removes one backup (false when absent); deleteAll removes the client directory', async () => {
    assert.equal(await store.delete(acme, ID_1), true);
    assert.equal(await store.delete(acme, ID_1), false);
    assert.deepEqual(
      (await store.list(acme)).map((b) => b.backupId),
      [ID_2],
    );
    await store.put(globex, ID_1, bytes('globex'));
    assert.equal(await store.deleteAll(acme), 1);
    assert.equal(await store.deleteAll(acme), 0);
    assert.deepEqual(await readdir(root), ['globex']);
    assert.equal(await readFile(join(root, 'globex', `${ID_1}.afbk`), 'utf8'), 'globex');
  });
});
