/**
 * Runs tasks one after another in the order they were given, each starting once the one before has
 * settled (a failed task does not stop the ones after it). For a read-check-write that must not
 * interleave with another (two decisions on one approval, two settings changes, two introductions).
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Settles once every task given so far has settled. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
