import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Starts a wait of `ms`; `expired` resolves when it ran out, never once cancelled. */
export type IdleTimer = (ms: number) => { expired: Promise<void>; cancel(): void };

export const setTimeoutIdleTimer: IdleTimer = (ms) => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
};

/**
 * Passes a stream through, failing it with a retryable `unavailable` when its source yields nothing for
 * `ms` (the time the consumer takes does not count), and stopping that source. A source that stalls
 * without ending or failing (an engine that stopped sending) would otherwise hold its reader, and what
 * the reader holds (a frozen agent, the client's one operation, a protected schedule), for ever.
 */
export async function* withIdleDeadline<T>(source: AsyncIterable<T>, ms: number, what: string, timer: IdleTimer = setTimeoutIdleTimer): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const idle = timer(ms);
      const stalled = idle.expired.then((): never => {
        throw new FleetError('unavailable', `${what}: nothing came for ${Math.round(ms / 1000)} s; given up`, { retryable: true });
      });
      let next: IteratorResult<T>;
      try {
        next = await Promise.race([iterator.next(), stalled]);
      } finally {
        idle.cancel();
      }
      if (next.done === true) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) stop(source, iterator);
  }
}

/**
 * Stops a source read part-way. A stream is destroyed directly (which releases whatever produced it): its
 * iterator, like any async generator, would queue return() behind the next() that never settles, and so
 * would not stop it. Otherwise return() is asked for, not awaited, for the same reason.
 */
function stop<T>(source: AsyncIterable<T>, iterator: AsyncIterator<T>): void {
  const stream = source as { destroy?: unknown };
  if (typeof stream.destroy === 'function') (stream.destroy as () => void).call(source);
  else void Promise.resolve(iterator.return?.()).catch(() => undefined);
}
