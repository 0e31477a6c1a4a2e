import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  STATE_FILE,
} from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'efs-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void test('the master key is created once with mode 0600 and reused', () =>
  withDir(async (dir) => {
    const first = await loadOrCreateMasterKey(dir);
    const second = await loadOrCreateMasterKey(dir);
    assert.equal(first.length, 32);
    assert.deepEqual(first, second);
    assert.equal((await stat(join(dir, MASTER_KEY_FILE))).mode & 0o777, 0o600);
  }));

void test('a master key readable by others is refused', () =>
  withDir(async (dir) => {
    await loadOrCreateMasterKey(dir);
    await chmod(join(dir, MASTER_KEY_FILE), 0o644);
    await assert.rejects(
      loadOrCreateMasterKey(dir),
      (error: unknown) => isFleetError(error) && error.code === 'integrity',
    );
  }));

void test('documents round-trip, each write uses a fresh nonce, and no plaintext reaches the file', () =>
  withDir(async (dir) => {
    const store = new EncryptedFileStore(dir, await loadOrCreateMasterKey(dir));
    assert.equal(await store.load(), null);
    const document = { secret: 'plaintext-marker-123' };
    await store.save(document);
    const once = await readFile(join(dir, STATE_FILE));
    await store.save(document);
    const twice = await readFile(join(dir, STATE_FILE));
    assert.notDeepEqual(once, twice);
    assert.deepEqual(once.subarray(0, 4), twice.subarray(0, 4));
    assert.notDeepEqual(once.subarray(4, 16), twice.subarray(4, 16), 'nonces differ');
    assert.equal(twice.includes(Buffer.from('plaintext-marker-123')), false);
    assert.deepEqual(await store.load(), document);
    assert.equal((await stat(join(dir, STATE_FILE))).mode & 0o777, 0o600);
  }));

void test('a flipped byte or a different master key fails authentication', () =>
  withDir(async (dir) => {
    const key = await loadOrCreateMasterKey(dir);
    await new EncryptedFileStore(dir, key).save({ a: 1 });
    const other = Buffer.alloc(32, 7);
    await assert.rejects(
      new EncryptedFileStore(dir, other).load(),
      (error: unknown) => isFleetError(error) && error.code === 'integrity',
    );
    const sealed = await readFile(join(dir, STATE_FILE));
    sealed[20] = (sealed[20] ?? 0) ^ 0xff;
    await writeFile(join(dir, STATE_FILE), sealed);
    await assert.rejects(
      new EncryptedFileStore(dir, key).load(),
      (error: unknown) => isFleetError(error) && error.code === 'integrity',
    );
  }));

void test('a FIFO or a link at the state file is refused at load, not read: the start fails fast instead of hanging', () =>
  withDir(async (dir) => {
    const key = await loadOrCreateMasterKey(dir);
    const store = new EncryptedFileStore(dir, key);
    const integrity = (error: unknown) => isFleetError(error) && error.code === 'integrity';
    execFileSync('mkfifo', [join(dir, STATE_FILE)]);
    await assert.rejects(store.load(), integrity);
    await rm(join(dir, STATE_FILE));
    await writeFile(join(dir, 'elsewhere'), 'x');
    await symlink(join(dir, 'elsewhere'), join(dir, STATE_FILE));
    await assert.rejects(store.load(), integrity);
    await store.save({ after: 'a save replaces the link' });
    assert.deepEqual(await store.load(), { after: 'a save replaces the link' });
    assert.equal(await readFile(join(dir, 'elsewhere'), 'utf8'), 'x');
  }));
