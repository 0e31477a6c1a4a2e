// Entry names in a volume snapshot: only a whole leading `.` segment is the volume's root. A name such as
// `.keys/data-key.wrapped` or `.KILLED` is a file of its own (as the restore's re-packing places it), so
// it must neither stand in for the agent's data key nor be dropped as the kill flag.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { inspectVolumeSnapshot, snapshotEntryName } from '../../../orchestrator/src/services/backup/snapshot-tar.ts';
import { snapshotWithout } from '../../../orchestrator/src/services/backup/snapshot-without.ts';

type Entry = { name: string; directory?: boolean; content?: string };

async function tarOf(entries: readonly Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const entry of entries) {
    if (entry.directory === true) pack.entry({ name: entry.name, type: 'directory' });
    else pack.entry({ name: entry.name }, entry.content ?? '');
  }
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const chunk of pack) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function namesIn(archive: AsyncIterable<Uint8Array>): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header: tar.Headers, stream: Readable, next: () => void) => {
      names.push(header.name);
      stream.once('end', next);
      stream.resume();
    });
    extract.once('finish', resolve);
    extract.once('error', reject);
  });
  Readable.from(archive).pipe(extract);
  await done;
  return names;
}

void describe('volume snapshot entry names', () => {
  test('only a whole leading "." segment is stripped', () => {
    assert.equal(snapshotEntryName('./'), null);
    assert.equal(snapshotEntryName('.'), null);
    assert.equal(snapshotEntryName('./keys/data-key.wrapped'), 'keys/data-key.wrapped');
    assert.equal(snapshotEntryName('./.hidden'), '.hidden');
    assert.equal(snapshotEntryName('.keys/data-key.wrapped'), '.keys/data-key.wrapped');
    assert.equal(snapshotEntryName('.KILLED'), '.KILLED');
    assert.equal(snapshotEntryName('...'), '...');
  });

  test('unsafe names are still refused', () => {
    for (const name of ['..', '../x', './../x', '/etc/passwd', 'a/../../x', './a//b', 'a/./b', 'a\0b']) {
      assert.throws(() => snapshotEntryName(name), (e: unknown) => isFleetError(e) && e.code === 'integrity', name);
    }
  });

  test('a ".keys/data-key.wrapped" is not the data key: the snapshot is refused', async () => {
    const archive = await tarOf([{ name: '.keys/', directory: true }, { name: '.keys/data-key.wrapped', content: 'vault:v1:wrapped' }]);
    await assert.rejects(inspectVolumeSnapshot(Readable.from([archive])), (e: unknown) => isFleetError(e) && /holds no keys\/data-key\.wrapped/.test(e.message));
  });

  test('a file named "..." is an ordinary file of the volume', async () => {
    const archive = await tarOf([{ name: 'keys/data-key.wrapped', content: 'vault:v1:wrapped' }, { name: '...', content: 'x' }]);
    assert.equal((await inspectVolumeSnapshot(Readable.from([archive]))).files, 2);
  });

  test('dropping the kill flag drops "KILLED" only, not ".KILLED"', async () => {
    const archive = await tarOf([{ name: 'KILLED', content: 'killed' }, { name: '.KILLED', content: 'note' }, { name: 'keys/data-key.wrapped', content: 'k' }]);
    assert.deepEqual(await namesIn(snapshotWithout(Readable.from([archive]), new Set(['KILLED']))), ['.KILLED', 'keys/data-key.wrapped']);
  });
});
