import { open, rename, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { syncDirectory } from './group-commit-appender.ts';
import { LineSplitter } from '@agent-fleet/kernel/line-splitter';

/**
 * The longest line a line file may hold, in bytes: well above the largest record the agent writes (an
 * outbox intent with a 5 MB text and a 5 MB HTML body, JSON-escaped, encrypted, base64), and the bound on
 * what reading one line holds in memory. Writers refuse a longer line, so what they write can be read back.
 */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;

/** The lines of an append-only line file, and what follows the last newline (a torn write). */
export interface LineFileContent {
  /** Complete lines, without their newline. */
  lines: string[];
  /** Bytes after the last newline: a write cut short by a crash. Empty when the file ends cleanly. */
  tail: string;
  /** The tail as stored (it may be cut inside a character). */
  tailBytes: Buffer;
  /** Length of the file up to and including the last newline. */
  completeBytes: number;
}

/** What scanning found after the last complete line. */
export type LineFileEnd = Omit<LineFileContent, 'lines'>;

/**
 * Reads a line file in chunks, handing each complete line to `onLine` as it is found, so that memory
 * holds one line at a time. A line (or tail) longer than `maxLineBytes` is an integrity error: no writer
 * makes one, and reading it whole is what a hostile file would want. A missing file is an empty one.
 */
export async function scanLineFile(path: string, onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES): Promise<LineFileEnd> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { tail: '', tailBytes: Buffer.alloc(0), completeBytes: 0 };
    throw error;
  }
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

/** Every complete line of a line file, and its tail (see scanLineFile for the bound on a line). */
export async function readLineFile(path: string, maxLineBytes = MAX_LINE_BYTES): Promise<LineFileContent> {
  const lines: string[] = [];
  const end = await scanLineFile(path, (line) => lines.push(line), maxLineBytes);
  return { lines, ...end };
}

/** Completes a torn last line that turned out to be whole (only its newline was lost), durably. */
export async function completeTornLine(path: string): Promise<void> {
  const fd = await open(path, 'a');
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
  const quarantinePath = join(dirname(path), `${basename(path)}.torn-${stamp}-${randomBytes(4).toString('hex')}`);
  const temporary = `${quarantinePath}.tmp`;
  await writeFile(temporary, content.tailBytes, { mode: 0o600, flush: true });
  await rename(temporary, quarantinePath);
  await truncate(path, content.completeBytes);
  const fd = await open(path, 'r+');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
  await syncDirectory(dirname(path));
  return quarantinePath;
}
