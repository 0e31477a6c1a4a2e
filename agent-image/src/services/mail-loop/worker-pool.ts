import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** What the pool does after an item failed: take the next item, or take no further item. */
export type AfterError = 'continue' | 'stop';

export interface WorkerPoolOptions<T> {
  /** Items in progress at once: an integer, at least 1. */
  concurrency: number;
  /** Processes one item. */
  run: (item: T) => Promise<void>;
  /**
   * Decides what a failed item means. Absent, or when it throws itself: the pool stops and rejects with
   * that error once the items in progress have settled.
   */
  onError?: (error: unknown, item: T) => Promise<AfterError> | AfterError;
}

export interface PoolRun {
  /** Items whose `run` resolved. */
  completed: number;
  /** Items whose `run` threw. */
  failed: number;
  /** True when a stop was asked (by `onError`, or by an error nobody handled). */
  stopped: boolean;
}

/**
 * Runs `run` over the items in order, at most `concurrency` at a time. A stop (asked by `onError`, or an
 * error nobody handled) takes no further item and waits for the items in progress: when the returned
 * promise settles, no work of this pool is still running.
 */
export async function runPool<T>(items: readonly T[], options: WorkerPoolOptions<T>): Promise<PoolRun> {
  const { concurrency, run, onError } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new FleetError('invalid_input', `worker pool concurrency must be an integer of at least 1, not ${concurrency}`);
  }
  const outcome: PoolRun = { completed: 0, failed: 0, stopped: false };
  // The first error nobody handled, rethrown once the pool has stopped.
  const unhandled: unknown[] = [];
  let next = 0;

  const afterError = async (error: unknown, item: T): Promise<AfterError> => {
    if (onError === undefined) {
      unhandled.push(error);
      return 'stop';
    }
    try {
      return await onError(error, item);
    } catch (handlerError) {
      unhandled.push(handlerError);
      return 'stop';
    }
  };

  const worker = async (): Promise<void> => {
    while (!outcome.stopped && next < items.length) {
      const item = items[next++] as T;
      try {
        await run(item);
        outcome.completed++;
      } catch (error) {
        outcome.failed++;
        if ((await afterError(error, item)) === 'stop') outcome.stopped = true;
      }
    }
  };

  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (unhandled.length > 0) throw unhandled[0];
  return outcome;
}
