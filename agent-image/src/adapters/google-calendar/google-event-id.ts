import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { createHash } from 'node:crypto';

/** The extended property that carries the idempotency key on the event itself. */
export const KEY_PROPERTY = 'agentFleetIdempotencyKey';

/**
 * Google lets the client choose an event id (base32hex: 0-9 and a-v, 5-1024 characters) and refuses a
 * second insert with the same id (409), so an id derived from the idempotency key makes a retried create
 * a no-op even when the first answer was lost. A hex SHA-256 is within that alphabet, fits any key, and
 * keeps keys that differ only in case apart.
 */
export function eventIdFor(key: string): string {
  assertIdempotencyKey(key);
  return createHash('sha256').update(`agent-fleet-event:${key}`).digest('hex');
}
