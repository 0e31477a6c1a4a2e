import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { restageTar } from '../../../orchestrator/src/adapters/docker/restage-tar.ts';
import { inspectVolumeSnapshot } from '../../../orchestrator/src/services/backup/snapshot-tar.ts';
import { headersIn, once, tarOf, type TarEntry } from '../../helpers/tar-entries.ts';

const listing = async (stream: Readable): Promise<string[]> => (await headersIn(stream)).map((header) => `${header.name} ${header.type} ${header.uid}`);

const integrity = (pattern: RegExp) => (error: unknown) => isFleetError(error) && error.code === 'integrity' && pattern.test(error.message);

describe('volume snapshots', () => {
  const volume: TarEntry[] = [
    { name: './', type: 'directory' },
    { name: './keys/', type: 'directory' },
    { name: './keys/data-key.wrapped', content: 'vault:v1:abc' },
    { name: './audit/audit-2026-12-01.log', content: 'line\n' },
  ];

  test('a snapshot with the wrapped data key passes, counted without keeping contents', async () => {
    assert.deepEqual(await inspectVolumeSnapshot(once(await tarOf(volume))), { files: 2, directories: 2, bytes: 17 });
  });

  test('links, escaping paths, no data key and non-tar bytes are refused', async () => {
    await assert.rejects(inspectVolumeSnapshot(once(await tarOf([...volume, { name: './evil', type: 'symlink', linkname: '/etc/passwd' }]))), integrity(/symlink/));
    await assert.rejects(inspectVolumeSnapshot(once(await tarOf([...volume, { name: './a/../../x', content: 'x' }]))), integrity(/unsafe path/));
    await assert.rejects(inspectVolumeSnapshot(once(await tarOf(volume.slice(3)))), integrity(/no keys\/data-key\.wrapped/));
    await assert.rejects(inspectVolumeSnapshot(once(Buffer.from('not a tar at all'.repeat(64)))), integrity(/not a readable volume snapshot/));
  });

  test('restaging puts every entry under the staging directory, parents first, leftovers of restores left out', async () => {
    const restaged = restageTar(once(await tarOf([{ name: './', type: 'directory' }, { name: './audit/a.log', content: 'a' }, { name: './.restore-previous/old', content: 'o' }, { name: './keys/', type: 'directory' }])), '.restore-staging-x');
    assert.deepEqual(await listing(restaged.tar), [
      '.restore-staging-x/ directory 10001',
      '.restore-staging-x/audit/ directory 10001',
      '.restore-staging-x/audit/a.log file 10001',
      '.restore-staging-x/keys/ directory 10001',
    ]);
    assert.equal(restaged.sourceFailure(), null);
  });

  test('restaging refuses a link, and a failing source fails the stream with its own error', async () => {
    const linked = restageTar(once(await tarOf([{ name: './x', type: 'symlink', linkname: '/etc' }])), '.restore-staging-x');
    await assert.rejects(listing(linked.tar));
    async function* broken(): AsyncGenerator<Buffer> {
      yield (await tarOf(volume)).subarray(0, 700);
      throw new Error('backup cut off');
    }
    const cut = restageTar(broken(), '.restore-staging-y');
    await assert.rejects(listing(cut.tar), /backup cut off/);
    assert.match(String(cut.sourceFailure()), /backup cut off/);
  });
});
