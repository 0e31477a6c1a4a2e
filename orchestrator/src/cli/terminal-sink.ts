import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import { terminalSafe } from './terminal-text.ts';

/**
 * Where a raw stream (`fleet audit export`) is written: to a file or a pipe, the bytes as they are; to a
 * terminal, the text made inert (terminal-text.ts), CSV's CRLF shown as a line break. Audit records carry
 * addresses and subjects from client mail, which must not drive the operator's terminal.
 */
export function terminalSink(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  if ((stream as Partial<NodeJS.WriteStream>).isTTY !== true) return stream;
  const decoder = new StringDecoder('utf8');
  // A CR at the end of a chunk waits for the next one: it may be the first half of a CRLF.
  let pending = '';
  const show = (text: string, last: boolean) => {
    const whole = pending + text;
    pending = !last && whole.endsWith('\r') ? '\r' : '';
    stream.write(terminalSafe((pending ? whole.slice(0, -1) : whole).replaceAll('\r\n', '\n')));
  };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      show(decoder.write(chunk), false);
      callback();
    },
    final(callback) {
      show(decoder.end(), true);
      callback();
    },
  });
}
