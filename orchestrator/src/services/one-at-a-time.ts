/**
 * Runs the tasks of one key one after another, tasks of other keys alongside. For checks that read a
 * count and then write it (a sign-in's lockout: is it locked, is the code right, count the failure): run
 * together, many guesses would all pass the "is it locked" step before the first failure is counted.
 * In this process only; a key's queue is dropped once it runs empty, so memory stays bounded.
 */
export class OneAtATime {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or waiting (for tests: nothing is kept once they are done). */
  get busyKeys(): number {
    return this.tails.size;
  }
}
