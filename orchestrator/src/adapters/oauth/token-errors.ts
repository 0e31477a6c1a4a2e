import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Turns an OAuth token endpoint error (RFC 6749 §5.2) into a FleetError that says what to check. */
export function tokenEndpointError(provider: string, status: number | undefined, body: unknown, cause?: unknown): FleetError {
  const data = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof data['error'] === 'string' ? data['error'].slice(0, 100) : null;
  const description =
    typeof data['error_description'] === 'string' ? data['error_description'].replace(/[^\x20-\x7e]/g, '?').slice(0, 300) : null;
  const detail = [code, description].filter((part) => part !== null).join(': ');
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return new FleetError('unauthorized', `${provider} refused the OAuth client (${detail}); check --oauth-client-id and the client secret`, { cause });
  }
  if (code === 'invalid_grant') {
    return new FleetError('unauthorized', `${provider} refused the authorization code (${detail}); run the command again`, { cause });
  }
  if (status === undefined || status >= 500 || status === 429) {
    return new FleetError('unavailable', `${provider} token endpoint unavailable${status ? ` (HTTP ${status})` : ''}${detail ? `: ${detail}` : ''}`, {
      cause,
      retryable: true,
    });
  }
  return new FleetError('invalid_input', `${provider} refused the code exchange (HTTP ${status}${detail ? `, ${detail}` : ''})`, { cause });
}
