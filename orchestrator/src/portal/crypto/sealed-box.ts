import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

const VERSION = 'ps1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM under a 32-byte key, with a purpose string as associated data (a value sealed for one
 * purpose, or one admin, does not open as another). Format: `ps1.<base64url(nonce | tag | ciphertext)>`.
 * The nonce is random unless given: a caller that gives one derives it from the plaintext (a synthetic
 * nonce), so that no two plaintexts share one under a key.
 */
export function seal(key: Buffer, plaintext: string | Buffer, purpose: string, nonce: Buffer = randomBytes(NONCE_BYTES)): string {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(purpose, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${VERSION}.${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** Opens a sealed value; a wrong key, purpose or a changed byte is an integrity error. */
export function unseal(key: Buffer, sealed: string, purpose: string): Buffer {
  const [version, encoded] = sealed.split('.');
  const raw = Buffer.from(encoded ?? '', 'base64url');
  if (version !== VERSION || raw.length < NONCE_BYTES + TAG_BYTES)
    throw new FleetError('integrity', 'sealed value is malformed');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(purpose, 'utf8'));
  decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw new FleetError('integrity', 'sealed value does not open with this key (tampered, or another key)', {
      cause: error,
    });
  }
}
