import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  STATE_FILE,
} from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import {
  exportKeyId,
  loadOrCreateExportSigner,
  toExportPublicKey,
  verifyExportSignature,
} from '../../../orchestrator/src/services/export/export-signing-key.ts';

const NOW = new Date('2026-12-04T09:00:00.000Z');

async function openStore(dir: string): Promise<EncryptedFileStore> {
  return new EncryptedFileStore(dir, await loadOrCreateMasterKey(dir));
}

void describe('export signing key', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-signing-key-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('it is made on first use, kept sealed under a 0600 key file, and the same key comes back', async () => {
    const first = await loadOrCreateExportSigner(await openStore(dir), NOW);
    assert.match(first.keyId, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual((await readdir(dir)).sort(), [MASTER_KEY_FILE, STATE_FILE].sort());
    assert.equal((await stat(join(dir, MASTER_KEY_FILE))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, STATE_FILE))).mode & 0o777, 0o600);
    const again = await loadOrCreateExportSigner(await openStore(dir), NOW);
    assert.equal(again.keyId, first.keyId);
    assert.equal(again.publicKeyPem, first.publicKeyPem);
    const data = Buffer.from('manifest bytes');
    assert.ok(verifyExportSignature(toExportPublicKey(first.publicKeyPem), data, again.sign(data)));
  });

  void test('the private key is not on disk in clear, in any encoding', async () => {
    const state = (await (await openStore(dir)).load()) as { privateKeyPkcs8: string };
    const der = Buffer.from(state.privateKeyPkcs8, 'base64');
    const raw =
      createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d ?? '';
    const pem = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const onDisk = await readFile(join(dir, STATE_FILE));
    for (const needle of [
      der,
      Buffer.from(state.privateKeyPkcs8),
      Buffer.from(raw),
      Buffer.from(pem.split('\n')[1] ?? 'x'),
    ])
      assert.equal(onDisk.includes(needle), false);
  });

  void test('a tampered key store refuses to load instead of making a new key', async () => {
    const sealed = await readFile(join(dir, STATE_FILE));
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0x10;
    await writeFile(join(dir, STATE_FILE), tampered);
    await assert.rejects(
      loadOrCreateExportSigner(await openStore(dir), NOW),
      (e: unknown) => isFleetError(e) && e.code === 'integrity',
    );
    await writeFile(join(dir, STATE_FILE), sealed);
  });

  void test('a stored pair whose public half was swapped is refused', async () => {
    const store = await openStore(dir);
    const state = (await store.load()) as Record<string, string>;
    const other = await loadOrCreateExportSigner(await openStore(await mkdtemp(join(dir, 'other-'))), NOW);
    const otherSpki = toExportPublicKey(other.publicKeyPem)
      .export({ format: 'der', type: 'spki' })
      .toString('base64');
    await store.save({ ...state, publicKeySpki: otherSpki });
    await assert.rejects(loadOrCreateExportSigner(store, NOW), /does not match/);
    await store.save(state);
  });

  void test('public keys are accepted as PEM, DER or KeyObject and named by the digest of their DER', async () => {
    const signer = await loadOrCreateExportSigner(await openStore(dir), NOW);
    const key = toExportPublicKey(signer.publicKeyPem);
    const der = key.export({ format: 'der', type: 'spki' });
    assert.equal(exportKeyId(toExportPublicKey(der)), signer.keyId);
    assert.equal(exportKeyId(toExportPublicKey(key)), signer.keyId);
    assert.throws(
      () => toExportPublicKey('not a key'),
      (e: unknown) => isFleetError(e) && e.code === 'invalid_input',
    );
    assert.equal(verifyExportSignature(key, Buffer.from('x'), Buffer.from('short')), false);
  });
});
