import { createHash, timingSafeEqual } from 'node:crypto';

const HEX_64 = /^[0-9a-f]{64}$/;

/** True when `hex` is a SHA-256 in lowercase hex (the form the orchestrator stores). */
export function isSha256Hex(hex: string): boolean {
  return HEX_64.test(hex);
}

/** Compares a presented bearer token with the stored SHA-256 in constant time. */
export function controlTokenMatches(presented: string, expectedSha256Hex: string): boolean {
  if (!isSha256Hex(expectedSha256Hex)) return false;
  const actual = createHash('sha256').update(presented, 'utf8').digest();
  return timingSafeEqual(actual, Buffer.from(expectedSha256Hex, 'hex'));
}
