// A downloaded archive that does not verify is reported on the progress display as well as in the error:
// the problems name the archive's entries, which must reach the operator's terminal inert there too.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import tar from 'tar-stream';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { downloadVerifiedArchive } from '../../../orchestrator/src/cli/export-download.ts';

const ACTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = '\u001b]0;owned\u0007\u001b[2J\u009b31m\r\u202egnp.exe';

async function hostileArchive(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: `notes${HOSTILE}.txt` }, 'hello');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('verified archive download', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-download-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('an archive that does not verify: the problems shown on progress are inert, and nothing is written', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const archive = await hostileArchive();
    const progress = new PassThrough();
    let shown = '';
    progress.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const out = path.join(dir, 'acme.tar');
    await assert.rejects(
      downloadVerifiedArchive({
        title: 'export acme',
        clientId: 'acme' as ClientId,
        out,
        progressTo: progress,
        publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        download: async (sink) => {
          sink.write(archive);
        },
      }),
      (error: Error) => (error as { code?: string }).code === 'integrity',
    );
    assert.match(shown, /does not verify/);
    assert.match(shown, /notes/);
    assert.doesNotMatch(shown, ACTIVE);
    assert.deepEqual(await readdir(dir), []);
  });
});
