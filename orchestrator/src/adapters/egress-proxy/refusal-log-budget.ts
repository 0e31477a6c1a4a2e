/** What the budget says of one refusal: write it (telling how many before it were left out), or leave it out. */
export type RefusalAdmission = { write: true; suppressed: number } | { write: false };

/**
 * How many refusals of one client the log takes per window. A compromised agent can cause a refusal per
 * connection, thousands a second; unbounded, that flood would rotate its own first attempts (the hosts it
 * tried to reach) out of the log within seconds. Past the budget refusals are only counted, and the next
 * line written for that client says how many were left out (the metrics count every one).
 */
export class RefusalLogBudget {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #clients = new Map<string, { windowStart: number; written: number; suppressed: number }>();

  constructor(perWindow: number, windowMs: number) {
    this.#perWindow = perWindow;
    this.#windowMs = windowMs;
  }

  /** Forgets what was counted of `client` (an erasure). */
  forget(client: string): void {
    this.#clients.delete(client);
  }

  /** Decides for one refusal of `client` at `atMs` (epoch milliseconds). */
  admit(client: string, atMs: number): RefusalAdmission {
    let state = this.#clients.get(client);
    if (state === undefined) {
      state = { windowStart: atMs, written: 0, suppressed: 0 };
      this.#clients.set(client, state);
    }
    // A clock that steps back starts a new window too, rather than leaving the client mute until it catches up.
    if (!(atMs >= state.windowStart && atMs < state.windowStart + this.#windowMs)) {
      state.windowStart = atMs;
      state.written = 0;
    }
    if (state.written >= this.#perWindow) {
      state.suppressed += 1;
      return { write: false };
    }
    state.written += 1;
    const suppressed = state.suppressed;
    state.suppressed = 0;
    return { write: true, suppressed };
  }
}
