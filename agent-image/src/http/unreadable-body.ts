import { isFleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Any refusal of the body parser (bad JSON, too large, a broken gzip stream, an unknown encoding or
 * charset): the caller's fault. Left to the generic handler it would be a 500 and an error log line per
 * request, which anyone who can reach the listener could send.
 */
export function isUnreadableBody(error: unknown): boolean {
  if (isFleetError(error) || typeof error !== 'object' || error === null) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}
