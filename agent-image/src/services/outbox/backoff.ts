/** Retry timing for transient provider errors. */
export interface BackoffPolicy {
  /** Provider calls per dispatch before the entry is left pending for a later pass. Default 5. */
  maxAttempts: number;
  /** Upper bound of the first delay, in milliseconds. Default 500. */
  baseDelayMs: number;
  /** Cap on any delay, in milliseconds. Default 30 000. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base * 2^retry)). Full jitter
 * spreads the retries of many agents hitting the same provider outage.
 */
export function fullJitterDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}
