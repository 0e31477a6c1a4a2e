import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError } from '../../ports/mail-provider.ts';
import { fullJitterDelay, type BackoffPolicy } from '../outbox/backoff.ts';

export interface RetryOptions extends BackoffPolicy {
  sleep: (milliseconds: number) => Promise<void>;
  random?: () => number;
}

/**
 * Retries a provider or model call that was refused before it acted: 429 (honouring Retry-After) and
 * transient errors, with exponential backoff and full jitter. Authentication failures and everything
 * else go straight back to the caller. Never used around a send (the outbox owns those).
 */
export async function withProviderRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retryable =
        error instanceof ProviderThrottledError ||
        (error instanceof FleetError && !(error instanceof ProviderAuthError) && error.retryable && error.code !== 'killed');
      if (!retryable || attempt + 1 >= options.maxAttempts) throw error;
      const jitter = fullJitterDelay(attempt, options, options.random);
      const retryAfter = error instanceof ProviderThrottledError ? (error.retryAfterMs ?? 0) : 0;
      await options.sleep(Math.min(options.maxDelayMs, Math.max(retryAfter, jitter)));
    }
  }
}
