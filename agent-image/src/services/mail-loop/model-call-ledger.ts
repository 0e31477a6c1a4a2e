/** Messages whose calls are counted at once, by default; the least recently answered are forgotten first. */
const COUNTED_MESSAGES = 10_000;

/**
 * Answered (so billed) model calls per message in this process, bounded: a message that keeps being asked
 * (a stage failing after its model answered) is seen, without the count growing with every message ever
 * read. One per agent, owned by its ModelBudget.
 */
export class ModelCallLedger {
  readonly #counts = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity = COUNTED_MESSAGES) {
    this.#capacity = capacity;
  }

  /** Answered calls counted under `key` (0 when none, or forgotten). */
  answered(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Counts one more answered call under `key`. */
  count(key: string): void {
    const next = this.answered(key) + 1;
    // Re-inserted, so the map's order is least recently answered first.
    this.#counts.delete(key);
    this.#counts.set(key, next);
    if (this.#counts.size > this.#capacity) this.#counts.delete(this.#counts.keys().next().value!);
  }
}
