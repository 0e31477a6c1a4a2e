/**
 * The name lookups of one listener in flight at once, each counted until it really ends rather than until
 * its caller stops waiting. The host's resolver (getaddrinfo) runs on libuv's thread pool: four threads,
 * shared by every client's proxy and by the orchestrator's own file and crypto work, and a name whose DNS
 * never answers holds its thread for the resolver's whole retry schedule, long after the proxy gave up on
 * it. Unbounded, one agent asking for such names (under an allowed wildcard whose DNS it controls) would
 * hold every thread and stall everyone; bounded, it holds at most `limit` of them.
 */
export class LookupSlots {
  readonly #limit: number;
  #busy = 0;
  /** Callers waiting for a slot, oldest first. */
  readonly #waiting = new Set<() => void>();

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Lookups started and not yet settled. */
  get busy(): number {
    return this.#busy;
  }

  /**
   * Runs `lookup` once a slot is free and holds the slot until it settles. Answers `timeout` when
   * `timeoutMs` passes first, whether waiting for a slot (the lookup then never starts) or for the lookup.
   */
  run<T>(lookup: () => Promise<T>, timeoutMs: number): Promise<T | 'timeout'> {
    return new Promise<T | 'timeout'>((resolve, reject) => {
      let settled = false;
      const start = () => {
        this.#busy += 1;
        const release = () => {
          this.#busy -= 1;
          this.#next();
        };
        let work: Promise<T>;
        try {
          work = lookup();
        } catch (error) {
          work = Promise.reject(error);
        }
        work.then(release, release);
        work.then(
          (value) => finish(() => resolve(value)),
          (error: unknown) => finish(() => reject(error)),
        );
      };
      const timer = setTimeout(() => {
        this.#waiting.delete(start);
        finish(() => resolve('timeout'));
      }, timeoutMs);
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settle();
      };
      if (this.#busy < this.#limit) start();
      else this.#waiting.add(start);
    });
  }

  #next(): void {
    if (this.#busy >= this.#limit) return;
    const first = this.#waiting.values().next();
    if (first.done === true) return;
    this.#waiting.delete(first.value);
    first.value();
  }
}
