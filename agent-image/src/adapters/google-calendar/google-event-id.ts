import { createHash } from 'node:crypto';
import { assertIdempotencyKey } from '../../ports/mail-provider.ts';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** The extended property that carries the idempotency key on the event itself. */
export const KEY_PROPERTY = 'agentFleetIdempotencyKey';

/**
 * Google lets the client choose an event id (base32hex, 5-1024 characters), and refuses a second insert
 * with the same id (409). Deriving the id from the idempotency key therefore makes a retried create a
 * no-op on Google's side, even when the first answer was lost. Hashed, so any key fits the alphabet and
 * keys differing only in case stay distinct.
 */
export function eventIdFor(key: string): string {
  assertIdempotencyKey(key);
  const digest = createHash('sha256').update(`agent-fleet-event:${key}`).digest();
  let bits = 0;
  let value = 0;
  let id = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      id += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) id += BASE32HEX[(value << (5 - bits)) & 31];
  return id;
}
