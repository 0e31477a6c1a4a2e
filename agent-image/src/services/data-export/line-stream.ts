import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { MAX_LINE_BYTES } from '../audit-log/line-file.ts';
import { LineSplitter } from '@agent-fleet/kernel/line-splitter';

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
  const splitter = new LineSplitter(maxLineBytes, tooLong);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) yield* splitter.lines(chunk as Buffer);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
}
