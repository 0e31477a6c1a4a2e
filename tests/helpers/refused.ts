// The checks of a refusal the tests make: a FleetError of the expected code whose message says what was
// refused, or the message of an invalid_input refusal for the test to match.
import assert from 'node:assert/strict';
import { isFleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';

/** Rejects with a FleetError of `code` whose message matches `pattern`. */
export async function refused(work: Promise<unknown>, code: FleetErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(isFleetError(error), String(error));
    assert.equal(error.code, code, error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

/** The message of the `invalid_input` FleetError `run` throws; fails the test when it accepts. */
export function invalidInputMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'invalid_input', String(error));
    return error.message;
  }
  assert.fail('accepted');
}

/** The message of the `invalid_input` FleetError `promise` rejects with; fails the test when it resolves. */
export async function invalidInputMessageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isFleetError(error) && error.code === 'invalid_input', String(error));
    return error.message;
  }
  assert.fail('accepted');
}
