import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Revokes a grant at Google's revocation endpoint (RFC 7009 in form, Google's semantics: revoking the
 * refresh token ends every token of that account's grant to the OAuth client). A 400 `invalid_token`
 * means the grant is already dead, which is what was wanted. Throws FleetError `unavailable` otherwise.
 */
export async function revokeGoogleGrant(input: { revokeUrl: string; refreshToken: string; requestTimeoutMs: number }): Promise<void> {
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(input.revokeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      // In the body, never the query string: the token stays out of URLs and access logs.
      body: new URLSearchParams({ token: input.refreshToken }),
      signal: AbortSignal.timeout(input.requestTimeoutMs),
    });
    body = await response.json().catch(() => null);
  } catch (error) {
    throw new FleetError('unavailable', 'Google’s revocation endpoint cannot be reached', { cause: error, retryable: true });
  }
  if (response.ok) return;
  const error = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['error'] : undefined;
  if (response.status === 400 && error === 'invalid_token') return;
  throw new FleetError('unavailable', `Google’s revocation endpoint answered HTTP ${response.status}`, {
    retryable: response.status >= 500 || response.status === 429,
  });
}
