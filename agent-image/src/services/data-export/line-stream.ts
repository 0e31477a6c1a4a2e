import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { MAX_LINE_BYTES } from '../audit-log/line-file.ts';

const NEWLINE = 0x0a;

/**
 * The complete lines of an append-only line file, read as a stream: memory holds one chunk and one line,
 * and each byte is looked at once, whatever the file's size. A line longer than `maxLineBytes` (the bound
 * the journals' writers keep, see line-file.ts) is an integrity error, as when the agent opens the file:
 * no writer makes one, and holding it whole is what a hostile volume would want. Bytes after the last
 * newline are a write cut short by a crash, never acknowledged to anyone: they are not yielded (but are
 * bounded the same way). A missing file yields nothing.
 */
export async function* completeLines(path: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<string> {
  const tooLong = () => new FleetError('integrity', `${basename(path)} holds a line longer than ${maxLineBytes} bytes`);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  try {
    for await (const read of createReadStream(path, { highWaterMark: 256 * 1024 })) {
      const chunk = read as Buffer;
      let start = 0;
      for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
        if (pendingBytes + newline - start > maxLineBytes) throw tooLong();
        const piece = chunk.subarray(start, newline);
        yield (pending.length === 0 ? piece : Buffer.concat([...pending, piece])).toString('utf8');
        pending = [];
        pendingBytes = 0;
        start = newline + 1;
      }
      if (start < chunk.length) {
        pendingBytes += chunk.length - start;
        if (pendingBytes > maxLineBytes) throw tooLong();
        pending.push(chunk.subarray(start));
      }
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
}
