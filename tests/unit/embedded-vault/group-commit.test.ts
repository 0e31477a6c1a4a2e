import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupCommit } from '../../../orchestrator/src/adapters/embedded-vault/group-commit.ts';

/** A save that records the state it snapshots when it starts and finishes only when told to. */
function controlledSaves(state: { value: number }) {
  const snapshots: number[] = [];
  const finishers: Array<(error?: Error) => void> = [];
  const save = () => {
    snapshots.push(state.value);
    return new Promise<void>((resolve, reject) => finishers.push((error) => (error ? reject(error) : resolve())));
  };
  return { save, snapshots, finish: (index: number, error?: Error) => finishers[index]?.(error) };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

test('calls made while a save runs share the next save, which snapshots every change made before them', async () => {
  const state = { value: 0 };
  const saves = controlledSaves(state);
  const { commit: persist } = groupCommit(saves.save);
  const answered: string[] = [];

  state.value = 1;
  const first = persist().then(() => answered.push('first'));
  await settled();
  state.value = 2;
  const second = persist().then(() => answered.push('second'));
  state.value = 3;
  const third = persist().then(() => answered.push('third'));
  await settled();
  assert.deepEqual(saves.snapshots, [1], 'nothing else is saved while the first save runs');

  saves.finish(0);
  await first;
  await settled();
  assert.deepEqual(saves.snapshots, [1, 3], 'one shared save, taken after both changes');
  assert.deepEqual(answered, ['first'], 'the later callers wait for the save that holds their change');

  saves.finish(1);
  await Promise.all([second, third]);
  assert.deepEqual(answered.slice(1).sort(), ['second', 'third']);
});

test('a call made after the shared save started gets a save of its own after it', async () => {
  const state = { value: 0 };
  const saves = controlledSaves(state);
  const { commit: persist } = groupCommit(saves.save);
  const first = persist();
  await settled();
  state.value = 1;
  const second = persist();
  saves.finish(0);
  await first;
  await settled();
  state.value = 2;
  const third = persist();
  await settled();
  assert.deepEqual(saves.snapshots, [0, 1], 'the third call does not start a save beside a running one');
  saves.finish(1);
  await second;
  await settled();
  assert.deepEqual(saves.snapshots, [0, 1, 2]);
  saves.finish(2);
  await third;
});

test('a failed save fails every call that shared it, and the next call saves again', async () => {
  const state = { value: 0 };
  const saves = controlledSaves(state);
  const { commit: persist, idle } = groupCommit(saves.save);
  const first = persist();
  await settled();
  const second = persist();
  const third = persist();
  saves.finish(0);
  await first;
  await settled();
  saves.finish(1, new Error('disk full'));
  await assert.rejects(second, /disk full/);
  await assert.rejects(third, /disk full/);
  await idle();
  const fourth = persist();
  await settled();
  assert.equal(saves.snapshots.length, 3);
  saves.finish(2);
  await fourth;
});
