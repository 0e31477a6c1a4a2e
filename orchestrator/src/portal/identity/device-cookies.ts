import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a browser stays a known device after its last successful sign-in. */
export const DEVICE_TRUST_MS = 180 * 86_400_000;

const NONCE_BYTES = 16;
const EXPIRY_BYTES = 6;
const MAC_BYTES = 32;
const COOKIE_BYTES = NONCE_BYTES + EXPIRY_BYTES + MAC_BYTES;

export interface IssuedDeviceCookie {
  value: string;
  maxAgeSeconds: number;
}

/** The key that signs device cookies, derived from the portal's credential key for this job alone. */
export function deviceCookieKey(credentialsKey: Buffer): Buffer {
  return Buffer.from(
    hkdfSync('sha256', credentialsKey, Buffer.alloc(0), 'agent-fleet portal device cookies', 32),
  );
}

/**
 * Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser that signed in
 * as an address gets a cookie naming a random device id, valid for that address only until its expiry,
 * signed by the portal (HMAC-SHA256 over the address, the id and the expiry). The address is not in the
 * cookie: the MAC is checked against the address typed at sign-in, so a cookie for one address makes the
 * browser known for no other. Nothing is stored: a cookie whose MAC checks out was issued here.
 */
export class DeviceCookies {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    this.key = key;
  }

  issue(email: string, now: Date): IssuedDeviceCookie {
    const nonce = randomBytes(NONCE_BYTES);
    const expiry = Buffer.alloc(EXPIRY_BYTES);
    expiry.writeUIntBE(Math.floor((now.getTime() + DEVICE_TRUST_MS) / 1000), 0, EXPIRY_BYTES);
    const value = Buffer.concat([nonce, expiry, this.mac(email, nonce, expiry)]).toString('base64url');
    return { value, maxAgeSeconds: DEVICE_TRUST_MS / 1000 };
  }

  /** The device id when `value` is an unexpired device cookie issued here for `email`; null otherwise. */
  deviceOf(email: string, value: string | undefined, now: Date): string | null {
    if (value === undefined || value.length !== Math.ceil((COOKIE_BYTES * 4) / 3)) return null;
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length !== COOKIE_BYTES) return null;
    const nonce = bytes.subarray(0, NONCE_BYTES);
    const expiry = bytes.subarray(NONCE_BYTES, NONCE_BYTES + EXPIRY_BYTES);
    const presented = bytes.subarray(NONCE_BYTES + EXPIRY_BYTES);
    if (!timingSafeEqual(presented, this.mac(email, nonce, expiry))) return null;
    if (expiry.readUIntBE(0, EXPIRY_BYTES) * 1000 <= now.getTime()) return null;
    return nonce.toString('base64url');
  }

  private mac(email: string, nonce: Buffer, expiry: Buffer): Buffer {
    return createHmac('sha256', this.key)
      .update(`device-cookie\0${email}\0`, 'utf8')
      .update(nonce)
      .update(expiry)
      .digest();
  }
}
