import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DueQueue } from '../../../orchestrator/src/adapters/embedded-vault/due-queue.ts';

function seededRandom(seed: number): () => number {
  let value = seed;
  return () => {
    value = (value * 1_103_515_245 + 12_345) % 2_147_483_648;
    return value / 2_147_483_648;
  };
}

void test('the due queue hands out exactly the keys due, each once, after any mix of sets, moves and deletes', () => {
  const random = seededRandom(7);
  const queue = new DueQueue();
  const model = new Map<string, number>();
  let now = 0;
  for (let step = 0; step < 20_000; step++) {
    const key = `k${Math.floor(random() * 300)}`;
    const roll = random();
    if (roll < 0.5) {
      const due = now + Math.floor(random() * 1000);
      queue.set(key, due);
      model.set(key, due);
    } else if (roll < 0.7) {
      queue.delete(key);
      model.delete(key);
    } else {
      now += Math.floor(random() * 50);
      const expected = [...model].filter(([, due]) => due <= now).sort((a, b) => a[1] - b[1]);
      const taken = queue.takeDue(now);
      assert.deepEqual(new Set(taken), new Set(expected.map(([k]) => k)), `step ${step}`);
      assert.deepEqual(taken.map((k) => model.get(k)), expected.map(([, due]) => due), 'earliest first');
      for (const k of taken) model.delete(k);
    }
    assert.equal(queue.size, model.size);
  }
});
