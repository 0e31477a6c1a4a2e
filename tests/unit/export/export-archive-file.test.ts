import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
} from '../../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import { writeExportArchiveToFile } from '../../../orchestrator/src/services/export/export-archive-file.ts';
import { verifyExportArchive } from '../../../orchestrator/src/services/export/export-archive-verifier.ts';
import type { ExportEntry } from '../../../orchestrator/src/services/export/export-archive-writer.ts';
import {
  loadOrCreateExportSigner,
  type ExportSigner,
} from '../../../orchestrator/src/services/export/export-signing-key.ts';
import { CREATED_AT, generated } from './archive-helpers.ts';

const run = promisify(execFile);

void describe('export archive file: standard tools can check it offline', () => {
  let dir: string;
  let signer: ExportSigner;
  const entries: ExportEntry[] = [
    { name: 'audit/audit-log.csv', description: 'Audit log as CSV.', open: () => generated(70_000, 'c') },
    {
      name: 'summaries/2026-12-03.md',
      description: 'A daily summary.',
      open: () => ['# Summary\n', 'Nothing to report.\n'],
    },
  ];
  const options = (spoolDir: string) => ({
    clientId: parseClientId('acme'),
    createdAt: CREATED_AT,
    entries,
    signer,
    spoolDir,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'export-file-'));
    const keyDir = join(dir, 'export-key');
    signer = await loadOrCreateExportSigner(
      new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)),
      CREATED_AT,
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  void test('the archive file is 0600, GNU tar lists it, and openssl and sha256sum check it by hand', async () => {
    const path = join(dir, 'acme.tar');
    const manifest = await writeExportArchiveToFile(path, options(dir));
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(dir)).sort(), ['acme.tar', 'export-key']);

    const listed = (await run('tar', ['-tf', path])).stdout.trim().split('\n');
    assert.deepEqual(listed, [
      'audit/audit-log.csv',
      'summaries/2026-12-03.md',
      'README.md',
      'MANIFEST.json',
      'MANIFEST.sig',
    ]);
    const out = join(dir, 'extracted');
    await mkdir(out);
    await run('tar', ['-xf', path, '-C', out]);
    await writeFile(join(out, 'key.pem'), signer.publicKeyPem);
    await writeFile(
      join(out, 'sig.bin'),
      Buffer.from((await readFile(join(out, 'MANIFEST.sig'), 'utf8')).trim(), 'base64'),
    );
    const verified = await run(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        'key.pem',
        '-rawin',
        '-in',
        'MANIFEST.json',
        '-sigfile',
        'sig.bin',
      ],
      { cwd: out },
    );
    assert.match(verified.stdout, /Signature Verified Successfully/);
    for (const file of manifest.files) {
      const sum = (await run('sha256sum', [file.name], { cwd: out })).stdout.split(' ')[0];
      assert.equal(sum, file.sha256, file.name);
    }
    // The same archive, read back from disk, verifies with our verifier.
    const result = await verifyExportArchive(createReadStream(path), signer.publicKeyPem);
    assert.deepEqual(result.problems, []);
  });

  void test('an existing file is never replaced, and a failed export leaves no file behind', async () => {
    const path = join(dir, 'taken.tar');
    await writeFile(path, 'keep me');
    await assert.rejects(
      writeExportArchiveToFile(path, options(dir)),
      (e: unknown) => isFleetError(e) && e.code === 'conflict',
    );
    assert.equal(await readFile(path, 'utf8'), 'keep me');

    const failing: ExportEntry = {
      name: 'a.txt',
      description: '',
      open: async function* () {
        yield 'partial';
        throw new Error('registry unavailable');
      },
    };
    const failedPath = join(dir, 'failed.tar');
    await assert.rejects(
      writeExportArchiveToFile(failedPath, { ...options(dir), entries: [failing] }),
      /registry unavailable/,
    );
    assert.ok(!(await readdir(dir)).some((name) => name.includes('failed.tar')));
  });
});
