import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { runPool } from '../../../agent-image/src/services/mail-loop/worker-pool.ts';

/** A promise the test settles by hand, to hold an item in progress. */
function gate(): { promise: Promise<void>; open: () => void; fail: (error: Error) => void } {
  let open = (): void => undefined;
  let fail = (_error: Error): void => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('the worker pool', () => {
  test('every item is run exactly once, in order of start', async () => {
    const started: number[] = [];
    const items = Array.from({ length: 25 }, (_, index) => index);
    const run = await runPool(items, {
      concurrency: 4,
      run: async (item) => {
        started.push(item);
        await tick();
      },
    });
    assert.deepEqual(started, items);
    assert.deepEqual(run, { completed: 25, failed: 0, stopped: false });
  });

  test('never more items in progress than the concurrency, and all of it used', async () => {
    let inProgress = 0;
    let peak = 0;
    await runPool(
      Array.from({ length: 20 }, (_, index) => index),
      {
        concurrency: 3,
        run: async (item) => {
          inProgress++;
          peak = Math.max(peak, inProgress);
          // Uneven durations, so workers finish out of step.
          for (let wait = 0; wait < (item % 4) + 1; wait++) await tick();
          inProgress--;
        },
      },
    );
    assert.equal(peak, 3);
    assert.equal(inProgress, 0);
  });

  test('a concurrency of 1 runs the items one after the other', async () => {
    const events: string[] = [];
    await runPool(['a', 'b', 'c'], {
      concurrency: 1,
      run: async (item) => {
        events.push(`start ${item}`);
        await tick();
        events.push(`end ${item}`);
      },
    });
    assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  test('an empty list resolves at once without running anything', async () => {
    let runs = 0;
    const run = await runPool([], { concurrency: 4, run: async () => void runs++ });
    assert.equal(runs, 0);
    assert.deepEqual(run, { completed: 0, failed: 0, stopped: false });
  });

  test('a failed item goes to the error handler with its error, and the others still run', async () => {
    const seen: [string, number][] = [];
    const done: number[] = [];
    const run = await runPool([1, 2, 3, 4, 5], {
      concurrency: 2,
      run: async (item) => {
        await tick();
        if (item % 2 === 0) throw new Error(`item ${item} failed`);
        done.push(item);
      },
      onError: (error, item) => {
        seen.push([(error as Error).message, item]);
        return 'continue';
      },
    });
    assert.deepEqual(done.sort(), [1, 3, 5]);
    assert.deepEqual(seen.sort(), [
      ['item 2 failed', 2],
      ['item 4 failed', 4],
    ]);
    assert.deepEqual(run, { completed: 3, failed: 2, stopped: false });
  });

  test('a stop takes no further item, and resolves only once the items in progress have finished', async () => {
    const held = gate();
    const started: number[] = [];
    let heldFinished = false;
    const running = runPool([1, 2, 3, 4, 5, 6], {
      concurrency: 2,
      run: async (item) => {
        started.push(item);
        if (item === 1) {
          await held.promise;
          heldFinished = true;
          return;
        }
        if (item === 2) throw new FleetError('killed', 'the agent is killed');
      },
      onError: async () => 'stop' as const,
    });
    let settled = false;
    void running.then(() => (settled = true));
    for (let wait = 0; wait < 5; wait++) await tick();
    assert.deepEqual(started, [1, 2], 'nothing is taken after the stop');
    assert.equal(settled, false, 'the pool waits for the item still in progress');
    held.open();
    const run = await running;
    assert.equal(heldFinished, true);
    assert.deepEqual(started, [1, 2]);
    assert.deepEqual(run, { completed: 1, failed: 1, stopped: true });
  });

  test('without an error handler the first error stops the pool and is rethrown after the rest settles', async () => {
    const held = gate();
    const started: number[] = [];
    let heldFinished = false;
    const running = runPool([1, 2, 3, 4], {
      concurrency: 2,
      run: async (item) => {
        started.push(item);
        if (item === 1) {
          await held.promise;
          heldFinished = true;
          return;
        }
        throw new Error('unhandled failure');
      },
    });
    for (let wait = 0; wait < 5; wait++) await tick();
    held.open();
    await assert.rejects(running, /unhandled failure/);
    assert.equal(heldFinished, true, 'the item in progress finished before the pool rejected');
    assert.deepEqual(started, [1, 2]);
  });

  test('an error handler that throws stops the pool, which rejects with the handler error', async () => {
    const started: number[] = [];
    const running = runPool([1, 2, 3], {
      concurrency: 1,
      run: async (item) => {
        started.push(item);
        throw new Error(`item ${item} failed`);
      },
      onError: async () => {
        throw new Error('recording the failure failed');
      },
    });
    await assert.rejects(running, /recording the failure failed/);
    assert.deepEqual(started, [1]);
  });

  test('a synchronous throw from run is handled like a rejection', async () => {
    const failed: number[] = [];
    const run = await runPool([1, 2], {
      concurrency: 2,
      run: ((item: number) => {
        if (item === 1) throw new Error('synchronous');
        return Promise.resolve();
      }) as (item: number) => Promise<void>,
      onError: (_error, item) => {
        failed.push(item);
        return 'continue';
      },
    });
    assert.deepEqual(failed, [1]);
    assert.deepEqual(run, { completed: 1, failed: 1, stopped: false });
  });

  test('a concurrency below 1 or not an integer is refused before anything runs', async () => {
    let runs = 0;
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(
        runPool([1], { concurrency, run: async () => void runs++ }),
        (error: unknown) => error instanceof FleetError && error.code === 'invalid_input',
      );
    }
    assert.equal(runs, 0);
  });
});
