import { isFleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The spec's error categories for a provider call:
 * - `transient`: network trouble, timeouts, rate limits, 5xx → back off and try again (after checking
 *   whether the send happened);
 * - `auth`: expired or revoked access → pause sending and alert a human;
 * - `data`: the message itself is malformed or rejected as such → quarantine it;
 * - `logic`: anything we cannot explain (including unknown errors) → human review queue. Unknown errors
 *   are never retried: a blind retry of a send is how duplicates happen.
 */
export type ProviderErrorCategory = 'transient' | 'auth' | 'data' | 'logic';

const TRANSIENT_ERRNO = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
]);

function httpStatus(error: object): number | undefined {
  for (const field of ['status', 'statusCode'] as const) {
    const value = (error as Record<string, unknown>)[field];
    if (typeof value === 'number' && Number.isInteger(value)) return value;
  }
  const response = (error as { response?: unknown }).response;
  if (response !== null && typeof response === 'object') {
    const status = (response as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
  return undefined;
}

function byStatus(status: number): ProviderErrorCategory {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 425 || status === 429 || status >= 500) return 'transient';
  if (status === 400 || status === 413 || status === 415 || status === 422) return 'data';
  return 'logic';
}

export function classifyProviderError(error: unknown): ProviderErrorCategory {
  if (isFleetError(error)) {
    switch (error.code) {
      case 'unavailable':
      case 'timeout':
      case 'busy':
        return 'transient';
      case 'unauthorized':
      case 'forbidden':
      case 'killed':
        return 'auth';
      case 'invalid_input':
      case 'integrity':
        return 'data';
      default:
        return error.retryable ? 'transient' : 'logic';
    }
  }
  if (error !== null && typeof error === 'object') {
    const status = httpStatus(error);
    if (status !== undefined) return byStatus(status);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_ERRNO.has(code)) return 'transient';
    if ((error as { name?: unknown }).name === 'AbortError' || (error as { name?: unknown }).name === 'TimeoutError') {
      return 'transient';
    }
  }
  return 'logic';
}
