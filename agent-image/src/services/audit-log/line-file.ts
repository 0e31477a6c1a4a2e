import { open, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from './group-commit-appender.ts';

/** The lines of an append-only line file, and what follows the last newline (a torn write). */
export interface LineFileContent {
  /** Complete lines, without their newline. */
  lines: string[];
  /** Bytes after the last newline: a write cut short by a crash. Empty when the file ends cleanly. */
  tail: string;
  /** Length of the file up to and including the last newline. */
  completeBytes: number;
}

export async function readLineFile(path: string): Promise<LineFileContent> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tail: '', completeBytes: 0 };
    throw error;
  }
  const lastNewline = text.lastIndexOf('\n');
  const complete = lastNewline < 0 ? '' : text.slice(0, lastNewline);
  return {
    lines: complete.length === 0 && lastNewline < 0 ? [] : complete.split('\n'),
    tail: text.slice(lastNewline + 1),
    completeBytes: Buffer.byteLength(text.slice(0, lastNewline + 1), 'utf8'),
  };
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
 * Moves a torn tail out of the way: its bytes go to `<file>.torn-<stamp>` for inspection, and the file is
 * cut back to its last complete line. Both durable before returning. Returns the quarantine path.
 */
export async function quarantineTornTail(path: string, content: LineFileContent, stamp: string): Promise<string> {
  const quarantinePath = join(dirname(path), `${basename(path)}.torn-${stamp}`);
  const temporary = `${quarantinePath}.tmp`;
  await writeFile(temporary, content.tail, { mode: 0o600, flush: true });
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
