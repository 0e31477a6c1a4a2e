/**
 * What the reads of one thread's messages may still download together, spent newest message first. A
 * thread's messages are read one by one (Gmail always, Graph when the thread's list is too large), each
 * bounded on its own; without a total, a sender who replies into the thread fifty times with messages
 * just under the per-message bound would have every read of the thread hold some 250 MB in the agent's
 * small memory, and crash it again at every retry. An entry over what is left is not downloaded (the
 * adapter shows an unreadable entry in its place). Pure.
 */
export class ThreadDownloadBudget {
  readonly #entryMaxBytes: number;
  #leftBytes: number;

  /** `totalBytes`: what the thread's reads may download together; `entryMaxBytes`: what one of them may. */
  constructor(totalBytes: number, entryMaxBytes: number) {
    this.#leftBytes = totalBytes;
    this.#entryMaxBytes = entryMaxBytes;
  }

  /** The most the next entry may download: the per-entry bound or what is left, whichever is less; 0 when nothing is left. */
  nextEntryLimit(): number {
    return Math.max(0, Math.min(this.#entryMaxBytes, this.#leftBytes));
  }

  /** Whether an entry of this many bytes (known before it is downloaded) may be downloaded. */
  admits(bytes: number): boolean {
    const limit = this.nextEntryLimit();
    return limit > 0 && bytes <= limit;
  }

  /** Counts what an entry's read downloaded. */
  spend(bytes: number): void {
    this.#leftBytes -= bytes;
  }
}
