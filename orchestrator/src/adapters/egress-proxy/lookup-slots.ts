/** What a lookup run within slots came to: its value, or why it never got an answer in time. */
export type SlotOutcome<T> = T | 'timeout' | 'no_slot';

/** Runs lookups within a bound; what a listener's proxy resolves names through. */
export interface LookupRunner {
  /**
   * Runs `lookup` once a slot is free and holds the slot until the lookup settles (not merely until its
   * caller stops waiting). Answers `no_slot` when `timeoutMs` passes before a slot came (the lookup then
   * never starts), `timeout` when it passes while the lookup runs.
   */
  run<T>(lookup: () => Promise<T>, timeoutMs: number): Promise<SlotOutcome<T>>;
  /** Lookups of this runner started and not yet settled. */
  readonly busy: number;
}

/**
 * The name lookups of the whole fleet in flight at once, each counted until it really ends. The host's
 * resolver (getaddrinfo) runs on libuv's thread pool, shared by every client's proxy and by the
 * orchestrator's own file and crypto work, and a name whose DNS never answers holds its thread for the
 * resolver's whole retry schedule, long after the proxy gave up on it. Each listener gets a share (`share`)
 * that holds at most its own few slots, so one agent asking for such names (under an allowed wildcard
 * whose DNS it controls) holds at most those; the pool's `total` bounds many such agents together, so the
 * pool's other threads stay free for file and crypto work. A freed slot goes to the waiting listener with
 * the fewest lookups in flight (in turn on a tie), so a flooding listener's queue never keeps another's
 * lookup waiting behind it.
 */
export class LookupPool {
  readonly #total: number;
  #busy = 0;
  /** Shares with lookups waiting, in the order their turn comes (a served share goes to the back). */
  readonly #turns = new Set<PoolShare>();

  constructor(total: number) {
    this.#total = whole(total);
  }

  /** Lookups of every share started and not yet settled. */
  get busy(): number {
    return this.#busy;
  }

  /** A listener's share: at most `limit` of its lookups in flight at once, within the pool's total. */
  share(limit: number): LookupRunner {
    return new PoolShare(this, whole(limit));
  }

  // The rest is for the pool's own shares (PoolShare is not exported, so nothing else can hold one).

  /**
   * Whether one more lookup of `share` may start now. Every freed slot is handed on at once (`settled`), so
   * a free slot here means no share that could use it is waiting.
   */
  mayStart(share: PoolShare): boolean {
    return this.#busy < this.#total && share.busy < share.limit;
  }

  started(): void {
    this.#busy += 1;
  }

  /** A lookup settled: its slot goes to the next share in turn that may use it. */
  settled(): void {
    this.#busy -= 1;
    this.#serve();
  }

  /** Puts `share` in the round of waiting shares (at the back), or takes it out when none of its lookups waits. */
  waiting(share: PoolShare, has: boolean): void {
    if (!has) this.#turns.delete(share);
    else if (!this.#turns.has(share)) this.#turns.add(share);
  }

  /** The waiting share with the fewest lookups in flight that may start one more; the earliest in the round on a tie. */
  #firstEligible(): PoolShare | undefined {
    let chosen: PoolShare | undefined;
    for (const share of this.#turns) {
      if (share.busy < share.limit && (chosen === undefined || share.busy < chosen.busy)) chosen = share;
    }
    return chosen;
  }

  #serve(): void {
    while (this.#busy < this.#total) {
      const share = this.#firstEligible();
      if (share === undefined) return;
      // To the back of the round before it starts, so the next free slot goes to another share first.
      this.#turns.delete(share);
      share.startNext();
      if (share.hasWaiting) this.#turns.add(share);
    }
  }
}

class PoolShare implements LookupRunner {
  readonly #pool: LookupPool;
  readonly limit: number;
  #busy = 0;
  /** This share's callers waiting for a slot, oldest first. */
  readonly #waiting = new Set<() => void>();

  constructor(pool: LookupPool, limit: number) {
    this.#pool = pool;
    this.limit = limit;
  }

  get busy(): number {
    return this.#busy;
  }

  get hasWaiting(): boolean {
    return this.#waiting.size > 0;
  }

  startNext(): void {
    const first = this.#waiting.values().next();
    if (first.done === true) return;
    this.#waiting.delete(first.value);
    first.value();
  }

  run<T>(lookup: () => Promise<T>, timeoutMs: number): Promise<SlotOutcome<T>> {
    return new Promise<SlotOutcome<T>>((resolve, reject) => {
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        settle();
      };
      let begun = false;
      const start = () => {
        begun = true;
        this.#busy += 1;
        this.#pool.started();
        const release = () => {
          this.#busy -= 1;
          this.#pool.settled();
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
        if (!begun) {
          this.#waiting.delete(start);
          this.#pool.waiting(this, this.#waiting.size > 0);
        }
        finish(() => resolve(begun ? 'timeout' : 'no_slot'));
      }, timeoutMs);
      // Like the proxy's listeners, never what keeps the process alive on its own.
      timer.unref();
      if (this.#waiting.size === 0 && this.#pool.mayStart(this)) return start();
      this.#waiting.add(start);
      this.#pool.waiting(this, true);
    });
  }
}

const whole = (limit: number): number => Math.max(1, Math.floor(limit));

/** One listener's lookups with no fleet around it: at most `limit` in flight (a pool of its own). */
export class LookupSlots implements LookupRunner {
  readonly #share: LookupRunner;

  constructor(limit: number) {
    this.#share = new LookupPool(limit).share(limit);
  }

  get busy(): number {
    return this.#share.busy;
  }

  run<T>(lookup: () => Promise<T>, timeoutMs: number): Promise<SlotOutcome<T>> {
    return this.#share.run(lookup, timeoutMs);
  }
}
