import { FleetError, type FleetErrorCode } from './fleet-error.ts';

/**
 * The one table between error codes and HTTP statuses, used by every server we run (the ops API, the
 * agent's control API, the portal) and every client of them, so an error keeps its code across a hop.
 */
const STATUS_BY_CODE: Readonly<Record<FleetErrorCode, number>> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  killed: 409,
  busy: 409,
  integrity: 422,
  internal: 500,
  unavailable: 503,
  timeout: 504,
};

/** For a body without a code of ours (a proxy's page, an old server): the closest code to the status. */
const CODE_BY_STATUS: ReadonlyMap<number, FleetErrorCode> = new Map([
  [400, 'invalid_input'],
  [401, 'unauthorized'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [409, 'conflict'],
  [413, 'invalid_input'],
  [422, 'integrity'],
  [429, 'busy'],
  [500, 'internal'],
  [503, 'unavailable'],
  [504, 'timeout'],
]);

const RETRYABLE: ReadonlySet<FleetErrorCode> = new Set(['busy', 'unavailable', 'timeout']);

export function isFleetErrorCode(value: unknown): value is FleetErrorCode {
  return typeof value === 'string' && Object.hasOwn(STATUS_BY_CODE, value);
}

export function httpStatusOf(code: FleetErrorCode): number {
  return STATUS_BY_CODE[code];
}

/** Whether trying again can help, for an error that arrived as a code. */
export function isRetryableCode(code: FleetErrorCode): boolean {
  return RETRYABLE.has(code);
}

/** The code of an error response: the `code` in its body when it is one of ours, else by status. */
export function errorCodeOfResponse(status: number, body: unknown): FleetErrorCode {
  const code = (body as { code?: unknown } | null)?.code;
  if (isFleetErrorCode(code)) return code;
  return CODE_BY_STATUS.get(status) ?? (status >= 500 ? 'unavailable' : 'invalid_input');
}

/** The `{ code, message }` body of an error response turned back into the FleetError it was. */
export function fleetErrorFromResponse(status: number, body: unknown, context: string): FleetError {
  const code = errorCodeOfResponse(status, body);
  const detail = (body as { message?: unknown; reason?: unknown } | null) ?? {};
  const text = typeof detail.message === 'string' ? detail.message : typeof detail.reason === 'string' ? detail.reason : `answered HTTP ${status}`;
  return new FleetError(code, `${context}: ${text}`, { retryable: isRetryableCode(code) });
}
