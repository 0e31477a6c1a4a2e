import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

/** Longest line passed on; a longer one is counted and skipped, never held whole (no audit record is near it). */
export const MAX_LINE_BYTES = 1024 * 1024;

export interface LineCount {
  /** Lines passed on. */
  lines: number;
  /** Lines longer than the limit, skipped. */
  skipped: number;
}

/**
 * Passes each line of `chunks` (split at line feeds) to `onLine`, holding at most one line of at most
 * `maxLineBytes` at a time: a log of any length, or one endless line, is read in bounded memory.
 */
export async function eachLine(chunks: AsyncIterable<Buffer>, onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES): Promise<LineCount> {
  const count: LineCount = { lines: 0, skipped: 0 };
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const endLine = (last: Buffer) => {
    if (overlong || pendingBytes + last.length > maxLineBytes) count.skipped += 1;
    else {
      onLine(Buffer.concat([...pending, last]).toString('utf8'));
      count.lines += 1;
    }
    pending = [];
    pendingBytes = 0;
    overlong = false;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      endLine(chunk.subarray(start, end));
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (overlong || rest.length === 0) continue;
    if (pendingBytes + rest.length > maxLineBytes) {
      overlong = true;
      pending = [];
      pendingBytes = 0;
    } else {
      pending.push(Buffer.from(rest));
      pendingBytes += rest.length;
    }
  }
  if (overlong || pendingBytes > 0) endLine(Buffer.alloc(0));
  return count;
}

/** Each line of one entry of a plain tar archive (`found: false` when it has no such entry). */
export async function eachTarEntryLine(archive: Readable, name: string, onLine: (line: string) => void, maxLineBytes = MAX_LINE_BYTES): Promise<LineCount & { found: boolean }> {
  let result: LineCount & { found: boolean } = { found: false, lines: 0, skipped: 0 };
  const extract = tar.extract();
  extract.on('entry', (header: tar.Headers, stream: Readable, next: (error?: unknown) => void) => {
    if (header.name !== name || result.found) {
      stream.on('end', () => next());
      stream.resume();
      return;
    }
    eachLine(stream as AsyncIterable<Buffer>, onLine, maxLineBytes).then(
      (count) => {
        result = { found: true, ...count };
        next();
      },
      (error: unknown) => next(error),
    );
  });
  await pipeline(archive, extract);
  return result;
}
