// The kernel's single flight, which the send pipeline (one run per approval) and the egress proxies (one
// registry read per client) use so that callers asking for a key already being worked on share that run.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SingleFlight } from '@agent-fleet/kernel/single-flight';

/** A promise settled from outside, for holding a run in flight as long as a test needs. */
function gate<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  test('callers of one key while its run is in flight share that run and its result', async () => {
    const flight = new SingleFlight<string, number>();
    const held = gate<number>();
    let runs = 0;
    const work = () => {
      runs += 1;
      return held.promise;
    };
    const first = flight.run('a', work);
    const second = flight.run('a', work);
    assert.equal(first, second);
    held.resolve(7);
    assert.deepEqual(await Promise.all([first, second]), [7, 7]);
    assert.equal(runs, 1);
  });

  test('a settled run is forgotten: the next caller runs the work again, nothing is cached', async () => {
    const flight = new SingleFlight<string, number>();
    let runs = 0;
    const work = async () => ++runs;
    assert.equal(await flight.run('a', work), 1);
    assert.equal(await flight.run('a', work), 2);
    assert.equal(flight.size, 0);
  });

  test('a rejection reaches every caller of that run, then is cleared so the next call runs again', async () => {
    const flight = new SingleFlight<string, string>();
    const held = gate<string>();
    const first = flight.run('a', () => held.promise);
    const second = flight.run('a', async () => 'not run');
    held.reject(new Error('registry down'));
    await assert.rejects(first, /registry down/);
    await assert.rejects(second, /registry down/);
    assert.equal(flight.size, 0);
    assert.equal(await flight.run('a', async () => 'ran again'), 'ran again');
  });

  test('different keys run independently, each at once', async () => {
    const flight = new SingleFlight<string, string>();
    const a = gate<string>();
    const started: string[] = [];
    const first = flight.run('a', () => {
      started.push('a');
      return a.promise;
    });
    const second = flight.run('b', async () => {
      started.push('b');
      return 'b done';
    });
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(await second, 'b done', 'b does not wait for a');
    assert.equal(flight.size, 1);
    a.resolve('a done');
    assert.equal(await first, 'a done');
  });

  test('work that throws before returning a promise rejects its run and leaves no entry behind', async () => {
    const flight = new SingleFlight<string, string>();
    const throwing = (): Promise<string> => {
      throw new Error('thrown synchronously');
    };
    await assert.rejects(flight.run('a', throwing), /thrown synchronously/);
    assert.equal(flight.size, 0);
    assert.equal(await flight.run('a', async () => 'ran'), 'ran');
  });

  test('the entry is removed once its run has settled, whether it resolved or rejected', async () => {
    const flight = new SingleFlight<number, void>();
    const runs = Array.from({ length: 50 }, (_, key) =>
      flight.run(key, async () => {
        if (key % 2 === 0) throw new Error('odd one out');
      }),
    );
    assert.equal(flight.size, 50);
    await Promise.allSettled(runs);
    assert.equal(flight.size, 0);
  });

  describe("share: 'started-after-call'", () => {
    test('a caller arriving while a run is in flight gets a run begun after its call, and one run at a time', async () => {
      const flight = new SingleFlight<string, string>({ share: 'started-after-call' });
      let state = 'active';
      let running = 0;
      let most = 0;
      const first = gate<void>();
      let runs = 0;
      const read = async () => {
        runs += 1;
        running += 1;
        most = Math.max(most, running);
        const seen = state;
        if (runs === 1) await first.promise;
        running -= 1;
        return seen;
      };
      const before = flight.run('a', read);
      state = 'killed';
      const after = [flight.run('a', read), flight.run('a', read), flight.run('a', read)];
      assert.equal(after[0], after[1], 'the callers after share one waiting run');
      assert.equal(runs, 1, 'the waiting run has not started while the first is in flight');
      first.resolve();
      assert.equal(await before, 'active');
      assert.deepEqual(await Promise.all(after), ['killed', 'killed', 'killed']);
      assert.equal(runs, 2);
      assert.equal(most, 1);
      assert.equal(flight.size, 0);
    });

    test("the run in flight failing does not fail the callers waiting for the next; that one's failure is cleared too", async () => {
      const flight = new SingleFlight<string, string>({ share: 'started-after-call' });
      const first = gate<string>();
      const failing = flight.run('a', () => first.promise);
      const waiting = flight.run('a', () => {
        throw new Error('next failed');
      });
      first.reject(new Error('first failed'));
      await assert.rejects(failing, /first failed/);
      await assert.rejects(waiting, /next failed/);
      assert.equal(flight.size, 0);
      assert.equal(await flight.run('a', async () => 'ran'), 'ran');
    });

    test('different keys neither wait for nor share each other', async () => {
      const flight = new SingleFlight<string, string>({ share: 'started-after-call' });
      const held = gate<string>();
      const a = flight.run('a', () => held.promise);
      assert.equal(await flight.run('b', async () => 'b'), 'b');
      held.resolve('a');
      assert.equal(await a, 'a');
    });
  });
});
