import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { pack } from 'tar-stream';
import { scanTarForMarkers } from '../../../orchestrator/src/services/doctor/volume-marker-scan.ts';

/** A tar like a volume snapshot (entries `./…`), each file's content streamed in small chunks. */
function volume(files: Record<string, Buffer | string>): NodeJS.ReadableStream {
  const archive = pack();
  archive.entry({ name: './', type: 'directory' });
  for (const [name, content] of Object.entries(files))
    archive.entry({ name: `./${name}` }, Buffer.from(content));
  archive.finalize();
  // Re-chunked into 7-byte pieces: a marker is found across chunk boundaries.
  return Readable.from(
    (async function* () {
      for await (const chunk of archive as AsyncIterable<Buffer>)
        for (let at = 0; at < chunk.length; at += 7) yield chunk.subarray(at, at + 7);
    })(),
  );
}

const skipConfig = (name: string) => (name === 'config.yaml' ? 'placed configuration' : null);

describe('the volume scan for plaintext markers', () => {
  test('sealed files pass; the configuration is left out by design and said so', async () => {
    const scan = await scanTarForMarkers(
      volume({
        'audit/2026-12-01.log': Buffer.from('AFV1\x00\x93\xff opaque ciphertext'),
        'config.yaml': 'admins: [boss@acme.example]\n',
      }),
      [{ text: 'boss@acme.example', kind: 'an admin address' }],
      skipConfig,
    );
    assert.deepEqual(scan.hits, []);
    assert.equal(scan.files, 1);
    assert.deepEqual(scan.skipped, ['config.yaml (placed configuration)']);
  });

  test('a marker is found in any case, across chunks, in UTF-8, and each file names it once', async () => {
    const scan = await scanTarForMarkers(
      volume({
        'state/notes.json': '{"to":"BOSS@ACME.EXAMPLE","again":"boss@acme.example"}',
        'outbox/x': 'Betreff: Überweisung März bestätigt',
      }),
      [
        { text: 'boss@acme.example', kind: 'an admin address' },
        { text: 'Überweisung März bestätigt', kind: 'a recent subject' },
        { text: 'abc', kind: 'too short to mean anything' },
      ],
      skipConfig,
    );
    assert.deepEqual(scan.hits, [
      { file: 'state/notes.json', kind: 'an admin address' },
      { file: 'outbox/x', kind: 'a recent subject' },
    ]);
  });
});
