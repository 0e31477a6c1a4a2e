import { GraphError } from '@microsoft/microsoft-graph-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { graphCallScope, type GraphCallScope } from './graph-call-scope.ts';

export function graphStatusOf(error: unknown): number | null {
  return error instanceof GraphError ? error.statusCode : null;
}

/** Turns a Graph SDK failure into our typed errors. Messages name the operation, never content. */
export function translateGraphError(error: unknown, operation: string): FleetError {
  if (error instanceof FleetError) return error;
  if (!(error instanceof GraphError) || error.statusCode <= 0) {
    return new FleetError('unavailable', `graph ${operation}: no answer from the server`, { retryable: true, cause: error });
  }
  const status = error.statusCode;
  const retryAfter = parseRetryAfter(error.headers?.get('retry-after') ?? null);
  if (status === 401) return new ProviderAuthError('invalid_token', `graph ${operation}: access token rejected (401)`, { cause: error });
  if (status === 429 || status === 503 || status === 504 || status >= 500) {
    return new ProviderThrottledError(status, retryAfter, `graph ${operation}: ${status === 429 ? 'throttled' : `server error ${status}`}`, { cause: error });
  }
  if (status === 403) {
    return error.code === 'ErrorAccessDenied'
      ? new ProviderAuthError('insufficient_scope', `graph ${operation}: access denied (missing scope)`, { cause: error })
      : new FleetError('forbidden', `graph ${operation}: forbidden`, { cause: error });
  }
  if (status === 404) return new FleetError('not_found', `graph ${operation}: not found`, { cause: error });
  if (status === 409) return new FleetError('conflict', `graph ${operation}: conflict`, { cause: error });
  if (status === 410) return new FleetError('not_found', `graph ${operation}: sync state gone`, { cause: error });
  if (status === 400) return new FleetError('invalid_input', `graph ${operation}: rejected as invalid (${error.code ?? 'BadRequest'})`, { cause: error });
  return new FleetError('internal', `graph ${operation}: unexpected status ${status}`, { cause: error });
}

/**
 * One Graph request with our error translation. A middleware parks its own error in the call scope (a
 * revoked grant, an answer over `maxResponseBytes`), because the Graph client would turn it into a bare
 * "no answer".
 */
export async function callGraphApi<T>(operation: string, request: () => Promise<T>, options: { maxResponseBytes?: number } = {}): Promise<T> {
  const scope: GraphCallScope = { error: undefined, maxResponseBytes: options.maxResponseBytes ?? null };
  try {
    return await graphCallScope.run(scope, request);
  } catch (error) {
    throw translateGraphError(scope.error ?? error, operation);
  }
}
