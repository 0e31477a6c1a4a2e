import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { PrototypeKeyInBody } from './json-body.ts';

/**
 * Any refusal of the body parser (bad JSON, too large, a broken gzip stream, an unknown encoding or
 * charset, a prototype key): the caller's fault. Left to the generic handler it would be a 500 and an
 * error log line per request, which anyone who can reach the listener could send.
 */
export function isUnreadableBody(error: unknown): boolean {
  if (isFleetError(error) || typeof error !== 'object' || error === null) return false;
  const { status, expose } = error as { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

/** What the caller is told about an unreadable body (the parser's own words only when they are ours). */
export function unreadableBodyMessage(error: unknown): string {
  if (error instanceof PrototypeKeyInBody) return error.message;
  const { type, limit } = error as { type?: unknown; limit?: unknown };
  if (type === 'entity.too.large' && typeof limit === 'number') return `request body must be at most ${limit} bytes`;
  return 'request body must be a JSON object';
}

/**
 * A path segment the router could not percent-decode (`/v1/approvals/%E0%A4%A`): the caller's fault too,
 * and reachable without a credential, since routes match before the token is checked.
 */
export function isUndecodablePath(error: unknown): boolean {
  return error instanceof URIError && (error as { status?: unknown }).status === 400;
}
