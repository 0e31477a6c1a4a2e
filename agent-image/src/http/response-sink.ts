import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

function readerGone(): FleetError {
  return new FleetError('unavailable', 'the reader went away');
}

/**
 * A response as the sink of a streamed export. A writer that waits for 'drain' after a full buffer would
 * wait for ever once the reader disconnects (a closed response never drains), holding its files open: here
 * the close also wakes it, and every write after the close throws, so the writer stops reading.
 */
export class ResponseSink extends EventEmitter implements NodeJS.WritableStream {
  private readonly response: ServerResponse;

  constructor(response: ServerResponse) {
    super();
    this.response = response;
    const onDrain = () => this.emit('drain');
    response.on('drain', onDrain);
    response.once('close', () => {
      response.off('drain', onDrain);
      this.emit('drain');
    });
  }

  get writable(): boolean {
    return !this.gone();
  }

  write(chunk: Uint8Array | string, encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void): boolean {
    if (this.gone()) throw readerGone();
    if (typeof encodingOrCallback === 'function') return this.response.write(chunk, encodingOrCallback);
    return this.response.write(chunk, encodingOrCallback ?? 'utf8', callback);
  }

  end(dataOrCallback?: string | Uint8Array | (() => void), encodingOrCallback?: BufferEncoding | (() => void), callback?: () => void): this {
    if (this.gone()) return this;
    if (dataOrCallback === undefined || typeof dataOrCallback === 'function') this.response.end(dataOrCallback);
    else if (typeof encodingOrCallback === 'function') this.response.end(dataOrCallback, encodingOrCallback);
    else this.response.end(dataOrCallback, encodingOrCallback ?? 'utf8', callback);
    return this;
  }

  /** True once the response can take no more: ended, or its connection closed. */
  gone(): boolean {
    return this.response.destroyed || this.response.writableEnded;
  }
}

/** Writes with backpressure; rejects when the reader went away (the caller then stops reading its source). */
export async function writeWithBackpressure(response: ServerResponse, chunk: string): Promise<void> {
  // A response closed before this write never emits 'close' again: waiting for it would wait for ever.
  if (response.destroyed || response.writableEnded) throw readerGone();
  if (response.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      response.off('drain', onDrain);
      response.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(readerGone());
    response.on('drain', onDrain);
    response.on('close', onClose);
  });
}
