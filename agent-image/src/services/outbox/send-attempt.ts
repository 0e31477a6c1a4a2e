import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { GrantReplacedError, ProviderThrottledError } from '../../ports/mail-provider.ts';
import type { OutboundMessage, SendReceipt, SendReceipts } from '../../ports/send-receipts.ts';
import { fullJitterDelay, type BackoffPolicy } from './backoff.ts';
import { classifyProviderError, type ProviderErrorCategory } from './classify-provider-error.ts';
import type { SendError } from './outbox-types.ts';

/** How a send attempt ended; the outbox records it. */
export type AttemptResult =
  | { kind: 'sent'; receipt: SendReceipt; reconciled: boolean }
  | { kind: 'paused'; reason: string }
  /** Transient errors outlasted the retry budget: the send stays pending. */
  | { kind: 'deferred'; error: SendError }
  /** The provider refused our credentials. */
  | { kind: 'auth'; error: SendError }
  | { kind: 'held'; status: 'quarantined' | 'review'; category: ProviderErrorCategory; error: SendError };

export interface SendAttemptOptions {
  backoff: BackoffPolicy;
  random: () => number;
  sleep: (milliseconds: number) => Promise<void>;
  /** Checked before every provider call: why sending is paused, or null. */
  paused: () => string | null;
  /** Told of every provider error as it happens (the entry's `lastError`). */
  onError: (error: { category: ProviderErrorCategory } & SendError) => void;
}

const MAX_ERROR_MESSAGE = 500;

function errorSummary(error: unknown): SendError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : null, message: message.slice(0, MAX_ERROR_MESSAGE) };
}

/** A provider call failed; distinguishes provider errors from our own, which must propagate. */
class ProviderCallFailed {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/**
 * A kill (the agent's kill switch, or the secret store revoking its token) is our own stop, not the
 * provider's answer: it propagates with the send still pending, never retried or read as refused
 * credentials (an authentication pause would outlive the revive, and the audit would record an auth failure).
 */
async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isFleetError(error) && error.code === 'killed') throw error;
    throw new ProviderCallFailed(error);
  }
}

/**
 * One send of `message` through the provider: transient errors are retried with full-jitter backoff,
 * and a call that failed (or a crash before it, `lookUpFirst`) may still have sent the message, so the
 * provider is asked by idempotency key before any retry. Records nothing: the caller does.
 */
export async function attemptSend(
  key: string,
  message: OutboundMessage,
  provider: SendReceipts,
  lookUpFirst: boolean,
  options: SendAttemptOptions,
): Promise<AttemptResult> {
  let mayHaveReachedProvider = lookUpFirst;
  for (let attempt = 0; ; attempt++) {
    const paused = options.paused();
    if (paused !== null) return { kind: 'paused', reason: paused };
    try {
      if (mayHaveReachedProvider) {
        const found = await callProvider(() => provider.findSentByIdempotencyKey(key));
        if (found !== null) return { kind: 'sent', receipt: found, reconciled: true };
      }
      mayHaveReachedProvider = true;
      const receipt = await callProvider(() => provider.send(structuredClone(message)));
      return { kind: 'sent', receipt, reconciled: false };
    } catch (thrown) {
      if (!(thrown instanceof ProviderCallFailed)) throw thrown;
      // Refused before it went out: the send waits, untouched, until the connection is built again and the
      // new grant's account checked (no retry against a client that refuses every call, no failure recorded).
      if (thrown.error instanceof GrantReplacedError) return { kind: 'paused', reason: thrown.error.message };
      const category = classifyProviderError(thrown.error);
      const error = errorSummary(thrown.error);
      options.onError({ category, ...error });
      if (category === 'transient') {
        if (attempt + 1 >= options.backoff.maxAttempts) return { kind: 'deferred', error };
        // A throttled provider is not called again sooner than it asked; when it asks for longer than we
        // ever wait (however absurd the Retry-After), the send waits for a later pass instead.
        const asked = thrown.error instanceof ProviderThrottledError && (thrown.error.retryAfterMs ?? -1) >= 0 ? thrown.error.retryAfterMs : null;
        if (asked !== null && asked > options.backoff.maxDelayMs) return { kind: 'deferred', error };
        await options.sleep(Math.max(asked ?? 0, fullJitterDelay(attempt, options.backoff, options.random)));
        continue;
      }
      if (category === 'auth') return { kind: 'auth', error };
      return { kind: 'held', status: category === 'data' ? 'quarantined' : 'review', category, error };
    }
  }
}
