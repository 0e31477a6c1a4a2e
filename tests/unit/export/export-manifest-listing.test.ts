import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalJson } from '@agent-fleet/kernel/canonical-json';
import { verifyExportArchive } from '../../../orchestrator/src/services/export/export-archive-verifier.ts';
import type { ExportManifest } from '../../../orchestrator/src/services/export/export-manifest.ts';
import type { ExportSigner } from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { buildArchive, readTar, writeTar } from './archive-helpers.ts';

/** Manifests signed by the right key whose file list itself is wrong: one name twice, or itself listed. */

function memorySigner(): ExportSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: `sha256:${createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex')}`,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sign: (data) => sign(null, data, privateKey),
  };
}

/** The archive with its manifest's file list replaced and re-signed with the same key. */
async function resigned(signer: ExportSigner, edit: (files: ExportManifest['files']) => ExportManifest['files']) {
  const { archive, manifest } = await buildArchive(signer, [
    { name: 'notes.txt', description: 'Notes.', open: () => ['hello\n'] },
  ]);
  const bytes = Buffer.from(canonicalJson({ ...manifest, files: edit(manifest.files) }), 'utf8');
  const entries = (await readTar(archive)).map((entry) => {
    if (entry.name === 'MANIFEST.json') return { name: entry.name, content: bytes };
    if (entry.name === 'MANIFEST.sig') return { name: entry.name, content: Buffer.from(`${signer.sign(bytes).toString('base64')}\n`) };
    return { name: entry.name, content: entry.content };
  });
  return writeTar(entries);
}

void describe('export verify: what a signed manifest lists', () => {
  void test('a file listed twice is refused even when both listings match the one entry', async () => {
    const signer = memorySigner();
    const archive = await resigned(signer, (files) => [files[0] as ExportManifest['files'][number], ...files]);
    const result = await verifyExportArchive([archive], signer.publicKeyPem);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => p.kind),
      ['manifest-invalid'],
    );
    assert.match(result.problems[0]?.message ?? '', /lists notes\.txt twice/);
  });

  void test('a manifest that lists its own signature is refused', async () => {
    const signer = memorySigner();
    const archive = await resigned(signer, (files) => [
      ...files,
      { name: 'MANIFEST.sig', size: 89, sha256: 'a'.repeat(64) },
    ]);
    const result = await verifyExportArchive([archive], signer.publicKeyPem);
    assert.equal(result.ok, false);
    assert.match(result.problems[0]?.message ?? '', /lists MANIFEST\.sig, which it cannot describe/);
  });
});
