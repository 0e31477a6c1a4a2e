import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';

/**
 * A failed Messages API call as a FleetError the mail loop knows what to do with:
 * - no answer (connection, timeout), 408, 409, 429, 5xx and 529: retryable, with Retry-After;
 * - 401 (key invalid or revoked), 402 (billing), 403 (key not allowed), 404 (model unknown to this key):
 *   the account, not the message, is refused, and every later call would be too. A ProviderAuthError,
 *   so the agent pauses and alerts at once instead of moving each message to review in turn. An API key,
 *   unlike an OAuth access token, does not die early, so even one 401 is final;
 * - any other status (400, 413, …): this request is refused, not retryable.
 */
export function translateAnthropicError(error: unknown, operation: string): FleetError {
  if (error instanceof APIConnectionError) {
    return new FleetError('unavailable', `anthropic ${operation}: no answer from the API`, { retryable: true, cause: error });
  }
  if (!(error instanceof APIError) || error.status === undefined) {
    return new FleetError('internal', `anthropic ${operation}: unexpected failure`, { cause: error });
  }
  const status = error.status;
  const refusal = ACCOUNT_REFUSALS.get(status);
  if (refusal !== undefined) return new ProviderAuthError('insufficient_scope', `anthropic ${operation}: ${refusal} (${status})`, { cause: error, service: 'model' });
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    const retryAfter = parseRetryAfter(error.headers?.get('retry-after') ?? null);
    return new ProviderThrottledError(status, retryAfter, `anthropic ${operation}: ${status === 429 ? 'rate limited' : `overloaded (${status})`}`, { cause: error });
  }
  return new FleetError('invalid_input', `anthropic ${operation}: request rejected (${status})`, { cause: error });
}

const ACCOUNT_REFUSALS: ReadonlyMap<number, string> = new Map([
  [401, 'API key rejected'],
  [402, 'billing refused the request'],
  [403, 'API key not permitted'],
  [404, 'model not found for this API key'],
]);
