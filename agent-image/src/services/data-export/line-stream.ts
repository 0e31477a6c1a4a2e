import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/**
 * The complete lines of an append-only line file, read as a stream (memory holds one chunk and one line,
 * whatever the file's size). Bytes after the last newline are a write cut short by a crash, never
 * acknowledged to anyone: they are not yielded. A missing file yields nothing.
 */
export async function* completeLines(path: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
      partial += decoder.write(chunk as Buffer);
      let newline = partial.indexOf('\n');
      let start = 0;
      while (newline !== -1) {
        yield partial.slice(start, newline);
        start = newline + 1;
        newline = partial.indexOf('\n', start);
      }
      partial = partial.slice(start);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
}
