import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Header carrying the idempotency key in every message the agent sends (and on its drafts). */
export const IDEMPOTENCY_HEADER = 'X-Agent-Fleet-Idempotency-Key';

/**
 * An idempotency key: 1 to 200 characters of letters, digits, '.', '_', ':' and '-'. Keys travel in
 * headers, event ids and transaction ids: a narrow alphabet keeps them from injecting anything.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

export function isIdempotencyKey(key: string): boolean {
  return IDEMPOTENCY_KEY_PATTERN.test(key);
}

export function assertIdempotencyKey(key: string): void {
  if (!isIdempotencyKey(key)) {
    throw new FleetError('invalid_input', 'idempotency key must be 1-200 characters of A-Z a-z 0-9 . _ : -');
  }
}
