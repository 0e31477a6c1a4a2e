import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { runSaga, SagaFailedError, type SagaEvent, type SagaStep } from '../../../orchestrator/src/domain/saga.ts';

interface Trace {
  log: string[];
}

function step(name: string, options: { fail?: unknown; failCompensation?: string; noCompensation?: boolean } = {}): SagaStep<Trace> {
  return {
    name,
    run: async (trace) => {
      trace.log.push(`run ${name}`);
      if (options.fail !== undefined) throw options.fail;
    },
    ...(options.noCompensation
      ? {}
      : {
          compensate: async (trace: Trace) => {
            trace.log.push(`undo ${name}`);
            if (options.failCompensation) throw new Error(options.failCompensation);
          },
        }),
  };
}

/** A clock that advances 5 ms per reading, so durations are exact. */
function fakeClock(): () => number {
  let now = 0;
  return () => (now += 5);
}

void test('all steps run in order and each success is reported with its duration', async () => {
  const trace: Trace = { log: [] };
  const events: SagaEvent[] = [];
  await runSaga([step('a'), step('b'), step('c')], trace, (event) => events.push(event), fakeClock());
  assert.deepEqual(trace.log, ['run a', 'run b', 'run c']);
  assert.deepEqual(events, [
    { type: 'step-started', step: 'a' },
    { type: 'step-succeeded', step: 'a', durationMs: 5 },
    { type: 'step-started', step: 'b' },
    { type: 'step-succeeded', step: 'b', durationMs: 5 },
    { type: 'step-started', step: 'c' },
    { type: 'step-succeeded', step: 'c', durationMs: 5 },
  ]);
});

void test('a failure compensates the failed step and every completed one in reverse order, and later steps never run', async () => {
  const trace: Trace = { log: [] };
  const events: SagaEvent[] = [];
  const error = await runSaga(
    [step('a'), step('b', { noCompensation: true }), step('c'), step('d', { fail: new Error('boom') }), step('e')],
    trace,
    (event) => events.push(event),
    fakeClock(),
  ).then(
    () => assert.fail('the saga must fail'),
    (failure: unknown) => failure,
  );
  assert.deepEqual(trace.log, ['run a', 'run b', 'run c', 'run d', 'undo d', 'undo c', 'undo a']);
  assert.ok(error instanceof SagaFailedError);
  assert.equal(error.failedStep, 'd');
  assert.deepEqual(error.compensationErrors, []);
  assert.equal(error.message, 'step "d" failed: boom; everything done before it was rolled back');
  assert.equal((error.cause as Error).message, 'boom');
  assert.deepEqual(events.slice(-4), [
    { type: 'step-failed', step: 'd', durationMs: 5, error: 'boom' },
    { type: 'compensated', step: 'd' },
    { type: 'compensated', step: 'c' },
    { type: 'compensated', step: 'a' },
  ]);
});

void test('compensation errors do not stop the rollback and are reported in the error', async () => {
  const trace: Trace = { log: [] };
  const events: SagaEvent[] = [];
  const error = await runSaga(
    [step('a', { failCompensation: 'a stuck' }), step('b', { failCompensation: 'b stuck' }), step('c', { fail: new Error('boom') })],
    trace,
    (event) => events.push(event),
  ).catch((failure: unknown) => failure);
  assert.ok(error instanceof SagaFailedError);
  assert.deepEqual(trace.log, ['run a', 'run b', 'run c', 'undo c', 'undo b', 'undo a']);
  assert.deepEqual(error.compensationErrors, ['b: b stuck', 'a: a stuck']);
  assert.match(error.message, /^step "c" failed: boom; rollback incomplete: b: b stuck; a: a stuck$/);
  assert.deepEqual(
    events.filter((event) => event.type === 'compensation-failed'),
    [
      { type: 'compensation-failed', step: 'b', error: 'b: b stuck' },
      { type: 'compensation-failed', step: 'a', error: 'a: a stuck' },
    ],
  );
});

void test('the saga error keeps the code of a FleetError cause, and is internal otherwise', async () => {
  const fleet = await runSaga([step('x', { fail: new FleetError('timeout', 'too slow', { retryable: true }) })], { log: [] }).catch(
    (failure: unknown) => failure,
  );
  assert.ok(fleet instanceof SagaFailedError);
  assert.equal(fleet.code, 'timeout');
  assert.equal(fleet.retryable, false, 'a rolled-back saga is retried by running it again, not by the caller');
  const plain = await runSaga([step('x', { fail: 'a string' })], { log: [] }).catch((failure: unknown) => failure);
  assert.ok(plain instanceof SagaFailedError);
  assert.equal(plain.code, 'internal');
  assert.match(plain.message, /step "x" failed: a string/);
});

void test('a failure in the first step compensates only that step', async () => {
  const trace: Trace = { log: [] };
  await assert.rejects(runSaga([step('a', { fail: new Error('no') }), step('b')], trace), SagaFailedError);
  assert.deepEqual(trace.log, ['run a', 'undo a']);
});

/** A step that ends when `release` is called, recording when it ran and was undone. */
function gatedStep(name: string, outcome: { fail?: Error } = {}) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const step: SagaStep<Trace> = {
    name,
    run: async (context) => {
      context.log.push(`start ${name}`);
      await gate;
      context.log.push(`end ${name}`);
      if (outcome.fail) throw outcome.fail;
    },
    compensate: async (context) => {
      context.log.push(`undo ${name}`);
    },
  };
  return { step, release };
}

void test('the steps of a parallel group run at once; their events come in declared order, each with its own duration', async () => {
  const trace: Trace = { log: [] };
  const events: SagaEvent[] = [];
  const a = gatedStep('a');
  const b = gatedStep('b');
  let clock = 0;
  const saga = runSaga([{ parallel: [a.step, b.step] }, step('c')], trace, (event) => events.push(event), () => clock);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(trace.log, ['start a', 'start b'], 'both started before either ended');
  clock = 7;
  b.release();
  await new Promise((resolve) => setImmediate(resolve));
  clock = 20;
  a.release();
  await saga;
  assert.deepEqual(trace.log, ['start a', 'start b', 'end b', 'end a', 'run c']);
  assert.deepEqual(events, [
    { type: 'step-started', step: 'a' },
    { type: 'step-started', step: 'b' },
    { type: 'step-succeeded', step: 'a', durationMs: 20 },
    { type: 'step-succeeded', step: 'b', durationMs: 7 },
    { type: 'step-started', step: 'c' },
    { type: 'step-succeeded', step: 'c', durationMs: 0 },
  ]);
});

for (const failing of ['a', 'b', 'c']) {
  void test(`a failure of group member "${failing}" waits for the others, then compensates every member and the earlier steps`, async () => {
    const trace: Trace = { log: [] };
    const events: SagaEvent[] = [];
    const names = ['a', 'b', 'c'];
    const members = names.map((name) => gatedStep(name, name === failing ? { fail: new Error(`${name} broke`) } : {}));
    const saga = runSaga([step('before'), { parallel: members.map((member) => member.step) }, step('after')], trace, (event) =>
      events.push(event),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // The failing one ends first; nothing is undone while the others still run.
    members[names.indexOf(failing)]!.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!trace.log.some((line) => line.startsWith('undo')), 'no compensation before the whole group ended');
    for (const member of members) member.release();
    const error = await saga.then(
      () => assert.fail('the saga must fail'),
      (failure: unknown) => failure,
    );
    assert.ok(error instanceof SagaFailedError);
    assert.equal(error.failedStep, failing);
    assert.equal(error.message, `step "${failing}" failed: ${failing} broke; everything done before it was rolled back`);
    assert.deepEqual(trace.log.slice(-4), ['undo c', 'undo b', 'undo a', 'undo before']);
    assert.ok(!trace.log.includes('run after'), 'later steps never run');
    assert.deepEqual(
      events.filter((event) => event.type === 'step-failed').map((event) => event.step),
      [failing],
    );
    assert.deepEqual(
      events.filter((event) => event.type === 'step-succeeded').map((event) => event.step),
      ['before', ...names.filter((name) => name !== failing)],
    );
  });
}

void test('when several members of a group fail, the first declared is the failed step and the others are named', async () => {
  const trace: Trace = { log: [] };
  const error = await runSaga(
    [{ parallel: [step('a'), step('b', { fail: new FleetError('unavailable', 'b down') }), step('c', { fail: new Error('c down') })] }],
    trace,
  ).catch((failure: unknown) => failure);
  assert.ok(error instanceof SagaFailedError);
  assert.equal(error.failedStep, 'b');
  assert.equal(error.code, 'unavailable');
  assert.equal(error.message, 'step "b" failed: b down (also failed: c: c down); everything done before it was rolled back');
  assert.deepEqual(trace.log, ['run a', 'run b', 'run c', 'undo c', 'undo b', 'undo a']);
});
