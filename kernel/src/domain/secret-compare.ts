import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time equality of a presented secret and ours: both are hashed first, so no length leaks. */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
