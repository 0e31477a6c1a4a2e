import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FleetError } from '../domain/fleet-error.ts';

/** fsyncs a directory so that created, renamed or removed entries in it are durable. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a file so that readers see the old content or the new, never a mix, and the new survives a
 * crash: a fresh temp file (O_EXCL, `mode`), fsync, rename over the target, fsync of the directory.
 */
export async function writeFileAtomically(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  const directory = dirname(path);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    // A full disk or an I/O error must not leave a temp file behind at every failed write.
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/**
 * Reads a file that must be a regular file named directly (not through a symbolic link): null when there is
 * none. A link, a directory, a FIFO or a device there, or a file over `maxBytes`, is an `integrity` error:
 * opened without following links and without blocking, so a FIFO cannot hang the reader, nor a link to a
 * device feed it without end.
 */
export async function readRegularFile(path: string, options: { maxBytes?: number } = {}): Promise<Buffer | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new FleetError('integrity', `${path} is a symbolic link, not a file`, { cause: error });
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new FleetError('integrity', `${path} is not a regular file`);
    const limit = options.maxBytes;
    if (limit === undefined) return await handle.readFile();
    // Read one byte past the limit rather than trust the size stat gave: the file may grow meanwhile.
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= limit; length += read) {
      read = (await handle.read(buffer, length, limit + 1 - length, length)).bytesRead;
    }
    if (length > limit) throw new FleetError('integrity', `${path} is larger than ${limit} bytes`);
    return buffer.subarray(0, length);
  } finally {
    await handle.close();
  }
}
