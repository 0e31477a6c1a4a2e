/**
 * Reads exact byte counts from the front of a chunk stream, then hands over the rest as a stream: how a
 * fixed-layout header is taken off a backup without buffering what follows it.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `count` bytes, or fewer when the stream ends first. */
  async read(count: number): Promise<Buffer> {
    while (this.pendingBytes < count && !this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else this.push(Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength));
    }
    const all = Buffer.concat(this.pending, this.pendingBytes);
    const taken = all.subarray(0, Math.min(count, all.length));
    this.pending = taken.length < all.length ? [all.subarray(taken.length)] : [];
    this.pendingBytes = all.length - taken.length;
    return taken;
  }

  /** Everything not read yet, as it arrives. */
  async *rest(): AsyncGenerator<Buffer> {
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    yield* pending;
    while (!this.done) {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    }
  }

  /** Stops the underlying stream (e.g. a refused backup: nothing more needs reading). */
  async close(): Promise<void> {
    this.done = true;
    await this.iterator.return?.();
  }

  private push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }
}
