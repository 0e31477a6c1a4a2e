import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Ends an export that stopped moving: an agent that sends its headers and then nothing, or a downloader
 * that stops reading, would otherwise hold the export open for ever, and with it the client's operation
 * guard (no erasure, backup or restore), its reader container, a killed client's unlocked Vault policy and
 * a closed client's network. Every byte read from a source or written to the archive calls `touch`; after
 * `stallMs` without one, `signal` aborts with a retryable `timeout`.
 */
export class ExportStallWatchdog {
  private readonly controller = new AbortController();
  private readonly stallMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(stallMs: number) {
    this.stallMs = stallMs;
    this.touch();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  touch(): void {
    if (this.controller.signal.aborted) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.controller.abort(new FleetError('timeout', `the export made no progress for ${Math.round(this.stallMs / 1000)} s (the agent stopped answering or the download stopped reading): abandoned`, { retryable: true }));
    }, this.stallMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The source, touching the watchdog with each chunk and failing with its reason once it fired. */
  async *watch<T>(source: AsyncIterable<T> | Iterable<T>): AsyncGenerator<T> {
    for await (const chunk of source) {
      this.signal.throwIfAborted();
      this.touch();
      yield chunk;
    }
    this.signal.throwIfAborted();
  }
}
