import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * A private temp directory (0700) holding entries whose size is not known before they are read: a tar
 * header states the size before the data, so such an entry is written to disk first, never to memory.
 */
export class EntrySpool {
  private readonly directory: string;

  private constructor(directory: string) {
    this.directory = directory;
  }

  static async create(parent: string): Promise<EntrySpool> {
    return new EntrySpool(await mkdtemp(join(parent, 'fleet-export-spool-')));
  }

  /** Writes a source to a new 0600 file; returns its path and size. */
  async spool(
    source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
    index: number,
  ): Promise<{ path: string; size: number }> {
    const path = join(this.directory, `entry-${index}`);
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let size = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        size += bytes.byteLength;
        yield bytes;
      }
    }
    try {
      await pipeline(counted(), handle.createWriteStream());
    } finally {
      // The stream closes the handle when it ends; this covers a stream that never started.
      await handle.close();
    }
    return { path, size };
  }

  /** Deletes one spooled entry as soon as it is in the archive. */
  async release(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async dispose(): Promise<void> {
    await rm(this.directory, { recursive: true, force: true });
  }
}
