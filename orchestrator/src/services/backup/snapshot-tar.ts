import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { TarEndMarker } from './tar-end-marker.ts';

/** The file a volume must hold to be opened by the agent again: its wrapped data key. */
export const REQUIRED_SNAPSHOT_FILE = 'keys/data-key.wrapped';

export interface SnapshotSummary {
  files: number;
  directories: number;
  /** Bytes of file content. */
  bytes: number;
}

/**
 * `./a/b` → `a/b` (null for the root itself); an absolute path, a `..` segment or a NUL is an integrity
 * error. Only a whole leading `.` segment goes: `.hidden` stays `.hidden` (as the restore's re-packing
 * reads it), so `.keys/data-key.wrapped` is not taken for the data key nor `.KILLED` for the kill flag.
 */
export function snapshotEntryName(name: string): string | null {
  const trimmed = name.replace(/^\.(?:\/|$)/, '').replace(/\/+$/, '');
  if (trimmed === '') return null;
  if (name.startsWith('/') || name.includes('\0') || trimmed.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) {
    throw new FleetError('integrity', `the backup holds an unsafe path ${JSON.stringify(name.slice(0, 120))}: refused`);
  }
  return trimmed;
}

/**
 * Reads a decrypted volume snapshot to its end and checks that it is one a restore can use: a readable
 * tar of plain files and directories under `./`, ended by its end-of-archive marker (not cut off),
 * holding the agent's wrapped data key. Memory stays bounded (file contents are counted, not kept).
 * Throws FleetError('integrity') otherwise.
 */
export async function inspectVolumeSnapshot(source: AsyncIterable<Uint8Array>): Promise<SnapshotSummary> {
  const summary: SnapshotSummary = { files: 0, directories: 0, bytes: 0 };
  let hasDataKey = false;
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: (error?: unknown) => void) => {
    let problem: unknown = null;
    try {
      const name = snapshotEntryName(header.name);
      if (header.type === 'directory') summary.directories++;
      else if (header.type === 'file') {
        summary.files++;
        if (name === REQUIRED_SNAPSHOT_FILE) hasDataKey = true;
      } else throw new FleetError('integrity', `the backup holds a ${header.type ?? 'special'} entry ${JSON.stringify(header.name.slice(0, 120))}: only files and directories are restored`);
    } catch (error) {
      problem = error;
    }
    stream.on('data', (chunk: Buffer) => (summary.bytes += chunk.length));
    stream.once('end', () => (problem === null ? next() : next(problem)));
    stream.resume();
  });
  const marker = new TarEndMarker();
  async function* followed(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      marker.push(chunk);
      yield chunk;
    }
    marker.finish();
  }
  try {
    await pipeline(followed, extract);
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError('integrity', `the backup's content is not a readable volume snapshot: ${(error as Error).message}`, { cause: error });
  }
  if (!hasDataKey) throw new FleetError('integrity', `the backup holds no ${REQUIRED_SNAPSHOT_FILE}: it is not a snapshot of an agent's volume`);
  return summary;
}

/**
 * Passes a volume snapshot through unchanged while checking it as `inspectVolumeSnapshot` does, and fails
 * at its end (or as soon as a problem shows) when it is not one a restore could use: what a backup streams
 * its snapshot through, so that an unrestorable snapshot is never stored as a backup.
 */
export async function* checkedVolumeSnapshot(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, SnapshotSummary> {
  const feed = new PassThrough();
  const inspected = inspectVolumeSnapshot(feed);
  const refusal: { error?: unknown } = {};
  // Observed at once so that an early refusal is never an unhandled rejection; thrown in the loop below.
  inspected.catch((error: unknown) => (refusal.error = error));
  // A write after an early refusal errors the feed: that error is the refusal's, reported through `inspected`.
  feed.on('error', () => undefined);
  try {
    for await (const chunk of source) {
      if ('error' in refusal) throw refusal.error;
      if (!feed.write(chunk)) await Promise.race([once(feed, 'drain'), inspected]);
      yield chunk;
    }
    feed.end();
    return await inspected;
  } finally {
    if (!feed.writableEnded) feed.destroy();
  }
}
