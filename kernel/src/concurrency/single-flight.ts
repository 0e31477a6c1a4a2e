export interface SingleFlightOptions {
  /**
   * Which run a caller may share. `in-flight` (the default): the one running for its key now.
   * `started-after-call`: only one that starts after the call, so that what it returns is no older than
   * the call (a status read that must see a kill recorded before the caller asked); callers arriving while
   * a run is in flight share the one run that starts as soon as it settles. Either way, one run at a time.
   */
  share?: 'in-flight' | 'started-after-call';
}

/**
 * Runs work once per key at a time: a caller asking for a key that is being worked on shares that run's
 * promise (its result, or its rejection) instead of starting another. A settled run is forgotten, so the
 * next caller starts afresh: results are never cached, and a failure is not kept. For work that must not
 * run twice at once (an approval's execution) or that a burst of callers should share (a registry read).
 */
export class SingleFlight<K, V> {
  readonly #share: NonNullable<SingleFlightOptions['share']>;
  readonly #running = new Map<K, Promise<V>>();
  /** `started-after-call`: the run each key's later callers wait for, started once the one running settles. */
  readonly #next = new Map<K, Promise<V>>();

  constructor(options: SingleFlightOptions = {}) {
    this.#share = options.share ?? 'in-flight';
  }

  /** The run for `key` that this caller may share, or a new one of `work`. A synchronous throw from `work` rejects the run. */
  run(key: K, work: () => Promise<V>): Promise<V> {
    if (this.#share === 'in-flight') return this.#running.get(key) ?? this.#start(key, work);
    // A waiting run has not started yet, so it is fresh enough for anyone who asks before it does.
    const waiting = this.#next.get(key);
    if (waiting !== undefined) return waiting;
    const running = this.#running.get(key);
    if (running === undefined) return this.#start(key, work);
    const next = running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.#next.delete(key);
        return this.#start(key, work);
      });
    this.#next.set(key, next);
    return next;
  }

  /** How many keys have a run in flight or waiting. */
  get size(): number {
    return new Set([...this.#running.keys(), ...this.#next.keys()]).size;
  }

  #start(key: K, work: () => Promise<V>): Promise<V> {
    // Called inside an async function so that a synchronous throw becomes this run's rejection too.
    const run = (async () => work())().finally(() => {
      if (this.#running.get(key) === run) this.#running.delete(key);
    });
    this.#running.set(key, run);
    return run;
  }
}
