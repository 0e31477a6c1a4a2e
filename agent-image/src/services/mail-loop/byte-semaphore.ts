import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** A share of a ByteSemaphore, held until released. */
export interface ByteLease {
  /** What the lease holds now. */
  readonly bytes: number;
  /** Gives back all but `bytes` (a lease only shrinks: growing could wait, and waiting while holding is how pools deadlock). */
  shrinkTo(bytes: number): void;
  /** Gives back what the lease holds; a second call does nothing. */
  release(): void;
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

/**
 * Bytes shared by concurrent work: `acquire` waits until its bytes fit beside those held, first come first
 * served (a large request is not passed over for ever by small ones). A request over the capacity is
 * capped to it, so it runs alone rather than never. Counts only; it allocates nothing.
 */
export class ByteSemaphore {
  readonly capacity: number;
  #held = 0;
  readonly #queue: Waiter[] = [];

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new FleetError('invalid_input', `a byte semaphore needs a positive integer capacity, not ${capacity}`);
    this.capacity = capacity;
  }

  /** The bytes held by leases now. */
  get held(): number {
    return this.#held;
  }

  /** A lease of `bytes` (capped to the capacity), once they fit and every earlier request has been served. */
  async acquire(bytes: number): Promise<ByteLease> {
    const wanted = Math.min(this.capacity, Math.max(0, Math.ceil(bytes)));
    if (this.#queue.length > 0 || this.#held + wanted > this.capacity) {
      await new Promise<void>((grant) => this.#queue.push({ bytes: wanted, grant }));
    } else {
      this.#held += wanted;
    }
    return this.#lease(wanted);
  }

  #lease(initial: number): ByteLease {
    let bytes = initial;
    const giveBack = (amount: number): void => {
      this.#held -= amount;
      this.#serve();
    };
    return {
      get bytes() {
        return bytes;
      },
      shrinkTo: (next) => {
        const kept = Math.min(bytes, Math.max(0, Math.ceil(next)));
        const freed = bytes - kept;
        bytes = kept;
        if (freed > 0) giveBack(freed);
      },
      release: () => {
        const freed = bytes;
        bytes = 0;
        if (freed > 0) giveBack(freed);
      },
    };
  }

  /** Grants queued requests in order while the first of them fits. */
  #serve(): void {
    for (let first = this.#queue[0]; first !== undefined && this.#held + first.bytes <= this.capacity; first = this.#queue[0]) {
      this.#queue.shift();
      this.#held += first.bytes;
      first.grant();
    }
  }
}
