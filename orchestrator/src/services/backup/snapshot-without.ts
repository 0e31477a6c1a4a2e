import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { snapshotEntryName } from './snapshot-tar.ts';

/**
 * A volume snapshot passed through with the plain files named in `dropped` (paths relative to the volume,
 * e.g. `KILLED`) left out; every other entry is written again with its own header (owner, mode, time). A
 * snapshot that cannot be read fails the returned stream with the reader's error.
 */
export function snapshotWithout(source: AsyncIterable<Uint8Array>, dropped: ReadonlySet<string>): AsyncIterable<Uint8Array> {
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: (error?: unknown) => void) => {
    let name: string | null;
    try {
      name = snapshotEntryName(header.name);
    } catch (error) {
      stream.resume();
      next(error);
      return;
    }
    if (name !== null && header.type === 'file' && dropped.has(name)) {
      stream.once('end', () => next());
      stream.resume();
      return;
    }
    stream.pipe(pack.entry(header, (error) => (error ? next(error) : next())));
  });
  pipeline(source, extract).then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return pack;
}
