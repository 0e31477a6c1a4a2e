// The one check of a refusal the tests of placed files and credential files make: a FleetError of the
// expected code whose message says what was refused.
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
