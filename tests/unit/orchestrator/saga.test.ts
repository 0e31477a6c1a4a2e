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
