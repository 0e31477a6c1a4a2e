const NEWLINE = 0x0a;

/**
 * Splits bytes, chunk by chunk, into newline-terminated lines, each looked at once and bounded: memory
 * holds the unfinished line only, and a line (or unfinished tail) longer than `maxLineBytes` is refused
 * with `tooLong()`. Lines are decoded by `decode` (UTF-8, a bad sequence replaced, by default); the tail
 * stays bytes (a write cut short may end inside a character).
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #tooLong: () => Error;
  readonly #decode: (line: Buffer) => string;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #completeBytes = 0;

  constructor(maxLineBytes: number, tooLong: () => Error, decode: (line: Buffer) => string = (line) => line.toString('utf8')) {
    this.#maxLineBytes = maxLineBytes;
    this.#tooLong = tooLong;
    this.#decode = decode;
  }

  /** The lines `chunk` completes, in order. The caller may reuse `chunk` afterwards. */
  *lines(chunk: Buffer): Generator<string> {
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      const length = this.#pendingBytes + newline - start;
      if (length > this.#maxLineBytes) throw this.#tooLong();
      const piece = chunk.subarray(start, newline);
      const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#completeBytes += length + 1;
      start = newline + 1;
      yield this.#decode(line);
    }
    if (start < chunk.length) {
      this.#pendingBytes += chunk.length - start;
      if (this.#pendingBytes > this.#maxLineBytes) throw this.#tooLong();
      this.#pending.push(Buffer.from(chunk.subarray(start)));
    }
  }

  /** Bytes of the complete lines so far, newlines included. */
  get completeBytes(): number {
    return this.#completeBytes;
  }

  /** The bytes after the last newline. */
  tail(): Buffer {
    return Buffer.concat(this.#pending);
  }
}
