import type { FleetErrorCode } from '@agent-fleet/kernel/fleet-error';

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
