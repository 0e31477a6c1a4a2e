import type { FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import type { ChecklistVerdict } from '../domain/onboarding-checklist.ts';

/** Exit status of `fleet` for each error code, so scripts can tell failures apart. */
export const EXIT_CODES: Record<FleetErrorCode, number> = {
  internal: 1,
  invalid_input: 2,
  not_found: 3,
  conflict: 4,
  busy: 4,
  killed: 4,
  unauthorized: 5,
  forbidden: 5,
  unavailable: 6,
  timeout: 6,
  integrity: 7,
};

/**
 * `fleet doctor`'s statuses for a checklist it printed (its errors exit as above): 0 every required item
 * done; 4 (as conflict) a required item failed, a control checked and found not in place; 8 none failed,
 * but required items are still pending (to attest, or not checked yet: run it again). An attestation that
 * was recorded exits 0 whatever else is open; one refused exits with its error's status (2, 3, 5).
 */
export const DOCTOR_EXIT_CODES: Readonly<Record<ChecklistVerdict, number>> = {
  complete: 0,
  failed: EXIT_CODES.conflict,
  pending: 8,
};
