import { constants } from 'node:fs';
import { open, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { journalDirectoryExists } from './journal-directory.ts';
import { syncDirectory } from '@agent-fleet/kernel/atomic-file';
import { LineSplitter } from '@agent-fleet/kernel/line-splitter';

/**
 * The longest line a line file may hold, in bytes: well above the largest record the agent writes (an
 * outbox intent with a 5 MB text and a 5 MB HTML body, JSON-escaped, encrypted, base64), and the bound on
 * what reading one line holds in memory. Writers refuse a longer line, so what they write can be read back.
 */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;

/** What follows the last newline of an append-only line file (a torn write), found by scanning it. */
export interface LineFileEnd {
  /** Bytes after the last newline: a write cut short by a crash. Empty when the file ends cleanly. */
  tail: string;
  /** The tail as stored (it may be cut inside a character). */
  tailBytes: Buffer;
  /** Length of the file up to and including the last newline. */
  completeBytes: number;
}

/**
 * Opens a journal file of the volume, which is untrusted: only a regular file named directly will do. A
 * symbolic link (which would have the agent read, cut back or append to a file outside the volume, and
 * copy its bytes into the volume as a torn tail), a FIFO (opened without O_NONBLOCK, it hangs the open),
 * a directory or a device is FleetError('integrity'), and so is a file whose directory is a link or not a
 * directory (journal-directory.ts). Null for a missing file unless `flags` creates it.
 */
export async function openLineFile(path: string, flags: number, mode = 0o600): Promise<FileHandle | null> {
  const creating = (flags & constants.O_CREAT) !== 0;
  if (!(await journalDirectoryExists(dirname(path))) && !creating) return null;
  let handle: FileHandle;
  try {
    handle = await open(path, flags | constants.O_NOFOLLOW | constants.O_NONBLOCK, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !creating) return null;
    if (code === 'ELOOP') throw new FleetError('integrity', `${basename(path)} is a symbolic link, not a journal file`, { cause: error });
    if (code === 'ENXIO' || code === 'EISDIR') throw new FleetError('integrity', `${basename(path)} is not a regular file`, { cause: error });
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new FleetError('integrity', `${basename(path)} is not a regular file`);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/**
 * The complete lines of a line file, one at a time: memory holds one chunk and one line, whatever the
 * number of lines (a hostile file of millions of empty lines is read in constant memory). Bytes after the
 * last newline are not yielded, but bounded like a line. A missing file yields nothing.
 */
export async function* lineFileLines(path: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<string> {
  const handle = await openLineFile(path, constants.O_RDONLY);
  if (handle === null) return;
  try {
    const splitter = new LineSplitter(maxLineBytes, () => new FleetError('integrity', `${basename(path)} holds a line longer than ${maxLineBytes} bytes`));
    const chunk = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      yield* splitter.lines(chunk.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads a line file in chunks, handing each complete line to `onLine` as it is found, so that memory
 * holds one line at a time. A line (or tail) longer than `maxLineBytes` is an integrity error: no writer
 * makes one, and reading it whole is what a hostile file would want. A missing file is an empty one; a
 * file that is not a regular one is refused (openLineFile).
 */
export async function scanLineFile(path: string, onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES): Promise<LineFileEnd> {
  const handle = await openLineFile(path, constants.O_RDONLY);
  if (handle === null) return { tail: '', tailBytes: Buffer.alloc(0), completeBytes: 0 };
  const tooLong = () => new FleetError('integrity', `${basename(path)} holds a line longer than ${maxLineBytes} bytes`);
  try {
    const splitter = new LineSplitter(maxLineBytes, tooLong);
    const chunk = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      for (const line of splitter.lines(chunk.subarray(0, bytesRead))) onLine(line);
    }
    const tailBytes = splitter.tail();
    return { tail: tailBytes.toString('utf8'), tailBytes, completeBytes: splitter.completeBytes };
  } finally {
    await handle.close();
  }
}

/** Completes a torn last line that turned out to be whole (only its newline was lost), durably. */
export async function completeTornLine(path: string): Promise<void> {
  const fd = await openLineFile(path, constants.O_WRONLY | constants.O_APPEND);
  if (fd === null) throw new FleetError('integrity', `${basename(path)} went away while its torn line was completed`);
  try {
    await fd.write('\n');
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Moves a torn tail out of the way: its bytes go to `<file>.torn-<stamp>-<random>` for inspection (the
 * random part: a clock set back must not make a later tail overwrite an earlier one), and the file is
 * cut back to its last complete line. Both durable before returning. Returns the quarantine path.
 */
export async function quarantineTornTail(path: string, content: LineFileEnd, stamp: string): Promise<string> {
  // Opened (no link followed) before anything is copied: the bytes moved aside are the journal's own.
  const fd = await openLineFile(path, constants.O_RDWR);
  if (fd === null) throw new FleetError('integrity', `${basename(path)} went away while its torn tail was moved aside`);
  try {
    return await moveTailAside(fd, path, content, stamp);
  } finally {
    await fd.close();
  }
}

async function moveTailAside(fd: FileHandle, path: string, content: LineFileEnd, stamp: string): Promise<string> {
  const quarantinePath = join(dirname(path), `${basename(path)}.torn-${stamp}-${randomBytes(4).toString('hex')}`);
  const temporary = `${quarantinePath}.tmp`;
  await writeFile(temporary, content.tailBytes, { mode: 0o600, flag: 'wx', flush: true });
  await rename(temporary, quarantinePath);
  await fd.truncate(content.completeBytes);
  await fd.sync();
  await syncDirectory(dirname(path));
  return quarantinePath;
}
