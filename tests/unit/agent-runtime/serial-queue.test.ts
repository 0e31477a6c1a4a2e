// The kernel's serial queue, which the approval desk, the settings desk, the introductions and the export
// sessions use so that a read-check-write never interleaves with another.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';

describe('SerialQueue', () => {
  test('runs tasks one at a time, in the order given, even when an earlier one is slower', async () => {
    const queue = new SerialQueue();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await delay(ms);
      events.push(`end ${name}`);
      return name;
    };
    const results = await Promise.all([queue.run(task('a', 30)), queue.run(task('b', 1)), queue.run(task('c', 10))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.deepEqual(events, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  test('a failed task rejects for its caller only; the next one still runs', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error('refused');
    });
    const next = queue.run(async () => 'ran');
    await assert.rejects(failed, /refused/);
    assert.equal(await next, 'ran');
  });

  test('idle settles once every task given so far has settled, failures included', async () => {
    const queue = new SerialQueue();
    let finished = 0;
    void queue.run(async () => {
      await delay(20);
      finished++;
    });
    queue
      .run(async () => {
        finished++;
        throw new Error('refused');
      })
      .catch(() => undefined);
    await queue.idle();
    assert.equal(finished, 2);
  });
});
