import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { GmailAnswerTooLargeError } from './gmail-bounded-response.ts';

interface HttpishError {
  status?: number;
  message?: string;
  response?: { status?: number; headers?: unknown; data?: unknown };
}

/** HTTP status of a gaxios error, if the server answered. */
export function statusOf(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const e = error as HttpishError;
  return e.response?.status ?? e.status ?? null;
}

function header(headers: unknown, name: string): string | null {
  if (typeof headers === 'object' && headers !== null && typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name);
  }
  if (typeof headers === 'object' && headers !== null) {
    const value = (headers as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : null;
  }
  return null;
}

function oauthErrorCode(error: unknown): string | null {
  const data = (error as HttpishError).response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'string') {
    return (data as { error: string }).error;
  }
  return null;
}

function gmailReason(error: unknown): string | null {
  const data = (error as HttpishError).response?.data as { error?: { errors?: { reason?: unknown }[] } } | undefined;
  const reason = data?.error?.errors?.[0]?.reason;
  return typeof reason === 'string' ? reason : null;
}

/** True for the token endpoint's "this refresh token is dead" answer. */
export function isInvalidGrant(error: unknown): boolean {
  return oauthErrorCode(error) === 'invalid_grant' || (error as HttpishError).message === 'invalid_grant';
}

/** Turns a googleapis / gaxios failure into our typed errors. Message texts carry no tokens or content. */
export function translateGmailError(error: unknown, operation: string): FleetError {
  if (error instanceof FleetError) return error;
  // The answer bound (gmail-bounded-response.ts) fails inside gaxios, which wraps it as "no answer".
  const cause: unknown = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof GmailAnswerTooLargeError) return cause;
  if (isInvalidGrant(error)) {
    return new ProviderAuthError('revoked', `gmail ${operation}: refresh token expired or revoked (invalid_grant)`, { cause: error });
  }
  const status = statusOf(error);
  if (status === 401) {
    return new ProviderAuthError('invalid_token', `gmail ${operation}: access token rejected (401)`, { cause: error });
  }
  const reason = gmailReason(error);
  if (status === 429 || (status === 403 && (reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded'))) {
    const retryAfter = parseRetryAfter(header((error as HttpishError).response?.headers, 'retry-after'));
    return new ProviderThrottledError(429, retryAfter, `gmail ${operation}: rate limited`, { cause: error });
  }
  if (status === 403 && reason === 'insufficientPermissions') {
    return new ProviderAuthError('insufficient_scope', `gmail ${operation}: missing OAuth scope`, { cause: error });
  }
  if (status !== null && status >= 500) {
    const retryAfter = parseRetryAfter(header((error as HttpishError).response?.headers, 'retry-after'));
    return new ProviderThrottledError(status, retryAfter, `gmail ${operation}: server error ${status}`, { cause: error });
  }
  if (status === 404) return new FleetError('not_found', `gmail ${operation}: not found`, { cause: error });
  if (status === 409) return new FleetError('conflict', `gmail ${operation}: conflict`, { cause: error });
  if (status === 403) return new FleetError('forbidden', `gmail ${operation}: forbidden`, { cause: error });
  if (status === 400) return new FleetError('invalid_input', `gmail ${operation}: rejected as invalid`, { cause: error });
  if (status === null) {
    return new FleetError('unavailable', `gmail ${operation}: no answer from the server`, { retryable: true, cause: error });
  }
  return new FleetError('internal', `gmail ${operation}: unexpected status ${status}`, { cause: error });
}
