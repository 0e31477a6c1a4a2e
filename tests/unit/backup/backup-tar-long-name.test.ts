// A GNU long-name header says how many bytes of name follow, and the tar reader holds that whole name in
// memory before it reads on: a snapshot claiming a name of gigabytes must be refused at that header, not
// buffered until memory runs out (as a pax header already is).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { inspectVolumeSnapshot } from '../../../orchestrator/src/services/backup/snapshot-tar.ts';

/** A GNU-format header block: `typeflag` 'L' (long path) or 'K' (long link), `size` bytes of data following. */
function gnuHeader(typeflag: 'L' | 'K', size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write('././@LongLink', 0, 'latin1');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('00000000000\0', 136, 'latin1');
  block.write(typeflag, 156, 'latin1');
  block.write('ustar  \0', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

void describe('a snapshot with an oversized GNU long name', () => {
  for (const typeflag of ['L', 'K'] as const) {
    test(`a '${typeflag}' header claiming 4 GiB is refused before its data is read`, async () => {
      let produced = 0;
      async function* snapshot(): AsyncGenerator<Buffer> {
        yield gnuHeader(typeflag, 4 * 1024 * 1024 * 1024);
        for (let index = 0; index < 200; index++) {
          produced++;
          yield Buffer.alloc(64 * 1024, 0x61);
        }
      }
      await assert.rejects(inspectVolumeSnapshot(snapshot()), (e: unknown) => isFleetError(e) && e.code === 'integrity' && /long name header is too large/.test(e.message));
      assert.ok(produced < 200, `the snapshot was read on after the oversized header (${produced} chunks)`);
    });
  }

  test('a long name of ordinary length still passes', async () => {
    const name = `./mail/${'n'.repeat(300)}`;
    const nameBytes = Buffer.from(`${name}\0`, 'latin1');
    const padded = Buffer.concat([nameBytes, Buffer.alloc((512 - (nameBytes.length % 512)) % 512)]);
    const pack = tar.pack();
    pack.entry({ name: './keys/data-key.wrapped' }, 'vault:v1:wrapped');
    pack.entry({ name: 'placeholder' }, 'x');
    pack.finalize();
    const parts: Buffer[] = [];
    for await (const chunk of pack) parts.push(chunk as Buffer);
    const packed = Buffer.concat(parts);
    // The long-name header and its data go in front of the second entry ("placeholder").
    const archive = Buffer.concat([packed.subarray(0, 1024), gnuHeader('L', nameBytes.length), padded, packed.subarray(1024)]);
    const summary = await inspectVolumeSnapshot((async function* () {
      yield archive;
    })());
    assert.equal(summary.files, 2);
  });
});
