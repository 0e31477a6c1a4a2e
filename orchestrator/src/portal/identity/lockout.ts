import type { LockoutPolicy } from '../../ports/portal-store.ts';

/** Failed sign-ins of one subject: how many in the current window, and a lockout end once over the limit. */
export interface FailureState {
  failures: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
}

/**
 * The state after one more failure. While locked, failures change nothing (the lockout is not extended,
 * so an attacker cannot keep an admin out for longer than one period by guessing on). A failure after the
 * window, or after a lockout has ended, starts a new count.
 */
export function nextFailureState(
  previous: FailureState | null,
  now: Date,
  policy: LockoutPolicy,
): FailureState {
  if (previous?.lockedUntil && previous.lockedUntil.getTime() > now.getTime()) return previous;
  const fresh =
    previous === null ||
    previous.lockedUntil !== null ||
    now.getTime() - previous.windowStartedAt.getTime() >= policy.windowMs;
  const failures = fresh ? 1 : previous.failures + 1;
  const windowStartedAt = fresh ? now : previous.windowStartedAt;
  const lockedUntil = failures >= policy.maxFailures ? new Date(now.getTime() + policy.windowMs) : null;
  return { failures, windowStartedAt, lockedUntil };
}
