import { createHash, createHmac, randomBytes } from 'node:crypto';
import { secretsEqual } from '@agent-fleet/kernel/secret-compare';

/** A fresh random token, base64url (32 bytes: 256 bits by default). */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** How tokens are kept: sha256 hex. The tokens are random and long, so no salt or stretching is needed. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function hmacBase64url(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/** Constant-time check of a presented HMAC against the expected one. */
export function hmacMatches(key: Buffer, text: string, presented: string): boolean {
  return secretsEqual(presented, hmacBase64url(key, text));
}
