import { APIConnectionError, APIError } from '@anthropic-ai/sdk';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';

/**
 * A failed Messages API call as a FleetError the mail loop knows what to do with:
 * - no answer (connection, timeout), 408, 409, 429, 5xx and 529: retryable, with Retry-After;
 * - the account, not the message, refused (accountRefusal below): every later call would be refused too.
 *   A ProviderAuthError, so the agent pauses and alerts at once instead of moving each message to review
 *   in turn. An API key, unlike an OAuth access token, does not die early, so even one 401 is final;
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
  const refusal = accountRefusal(status, error);
  if (refusal !== null) return new ProviderAuthError('insufficient_scope', `anthropic ${operation}: ${refusal} (${status})`, { cause: error, service: 'model' });
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

/**
 * Stable `error.details.error_code`s that refuse the organisation until someone acts (a hold, a disabled
 * encryption key, a spend limit of the contract or the tier), whatever status carries them: a 429 of a
 * spend limit is not lifted by waiting a few seconds, and retrying it message by message would drain the
 * queue to review.
 */
const ACCOUNT_ERROR_CODES: ReadonlyMap<string, string> = new Map([
  ['organization_on_hold', 'the organisation is on hold'],
  ['cmek_key_disabled', 'the workspace encryption key is disabled'],
  ['contract_spend_limit_reached', 'the contract spend limit is reached'],
  ['enforced_spend_limit_reached', 'the monthly spend limit of the API tier is reached'],
]);

/**
 * The API answers 400 `invalid_request_error` (not 402) when the prepaid credit runs out or the
 * organisation's own spend limit is reached, with no error_code: only its message tells. The wording may
 * change; a refusal it no longer matches falls back to a per-request 400 (the message goes to review), never
 * to anything less safe.
 */
const ACCOUNT_MESSAGES: readonly (readonly [RegExp, string])[] = [
  [/\bcredit balance is too low\b/i, 'credit balance too low'],
  [/\breached your specified API usage limits\b/i, 'the account usage limit is reached'],
];

/** Why the account (not this request) was refused, or null. */
function accountRefusal(status: number, error: APIError): string | null {
  const byStatus = ACCOUNT_REFUSALS.get(status);
  if (byStatus !== undefined) return byStatus;
  const byCode = error.errorCode === null ? undefined : ACCOUNT_ERROR_CODES.get(error.errorCode);
  if (byCode !== undefined) return byCode;
  if (error.type === 'billing_error') return 'billing refused the request';
  if (status !== 400 || error.type !== 'invalid_request_error') return null;
  const message = typeof error.apiMessage === 'string' ? error.apiMessage.slice(0, 1000) : '';
  return ACCOUNT_MESSAGES.find(([pattern]) => pattern.test(message))?.[1] ?? null;
}
