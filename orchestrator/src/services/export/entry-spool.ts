import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** One entry on disk: where, its plaintext size, and what it takes to read it back. */
export interface SpooledEntry {
  path: string;
  size: number;
  readonly iv: Buffer;
  readonly tag: Buffer;
}

/** The prefix of each spool's directory (removed at the service's start when a crash left one: leftover-work.ts). */
export const EXPORT_SPOOL_PREFIX = 'fleet-export-spool-';

/**
 * A private temp directory (0700) holding entries whose size is not known before they are read: a tar
 * header states the size before the data, so such an entry is written to disk first, never to memory.
 * What is spooled is client data in plaintext (drafts, sent mail, audit records), so it is written
 * AES-256-GCM encrypted under a key that lives only in this process's memory: files left behind by a
 * crash, a kill -9 or a full disk are unreadable, and no erasure has to find them.
 */
export class EntrySpool {
  private readonly directory: string;
  private readonly key: Buffer = randomBytes(32);

  private constructor(directory: string) {
    this.directory = directory;
  }

  static async create(parent: string): Promise<EntrySpool> {
    return new EntrySpool(await mkdtemp(join(parent, EXPORT_SPOOL_PREFIX)));
  }

  /** Writes a source to a new 0600 file, encrypted; returns what `read` needs. */
  async spool(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, index: number): Promise<SpooledEntry> {
    const path = join(this.directory, `entry-${index}`);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
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
      await pipeline(counted(), cipher, handle.createWriteStream());
    } finally {
      // The stream closes the handle when it ends; this covers a stream that never started.
      await handle.close();
    }
    return { path, size, iv, tag: cipher.getAuthTag() };
  }

  /** The plaintext of a spooled entry; fails `integrity` at its end when the file was changed on disk. */
  async *read(entry: SpooledEntry): AsyncGenerator<Buffer> {
    const decipher = createDecipheriv('aes-256-gcm', this.key, entry.iv);
    decipher.setAuthTag(entry.tag);
    for await (const chunk of createReadStream(entry.path)) yield decipher.update(chunk as Buffer);
    let last: Buffer;
    try {
      last = decipher.final();
    } catch (error) {
      throw new FleetError('integrity', `the spooled export entry ${entry.path} was changed on disk`, { cause: error });
    }
    if (last.length > 0) yield last;
  }

  /** Deletes one spooled entry as soon as it is in the archive. */
  async release(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  async dispose(): Promise<void> {
    this.key.fill(0);
    await rm(this.directory, { recursive: true, force: true });
  }
}
