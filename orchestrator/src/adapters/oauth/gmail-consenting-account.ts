import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

const GOOGLE_SCOPE = 'https://www.googleapis.com/auth/';

/** The Gmail scopes users.getProfile accepts (gmail.send and the calendar scopes do not let us ask). */
const PROFILE_SCOPES = new Set(
  ['gmail.readonly', 'gmail.compose', 'gmail.modify', 'gmail.metadata']
    .map((s) => `${GOOGLE_SCOPE}${s}`)
    .concat('https://mail.google.com/'),
);

/**
 * The Gmail address of the account that consented (users.getProfile with the fresh access token), lower-cased;
 * null when the granted scopes do not allow the question or no access token came back. Any other failure
 * throws: a grant whose account cannot be told must not be stored as the client's mailbox.
 */
export async function consentingGmailAccount(input: {
  gmailApiUrl: string;
  accessToken: string | null;
  grantedScopes: readonly string[];
  requestTimeoutMs?: number;
}): Promise<string | null> {
  if (input.accessToken === null || !input.grantedScopes.some((scope) => PROFILE_SCOPES.has(scope)))
    return null;
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(new URL('gmail/v1/users/me/profile', input.gmailApiUrl), {
      headers: { authorization: `Bearer ${input.accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(input.requestTimeoutMs ?? 30_000),
    });
    body = await response.json().catch(() => null);
  } catch (error) {
    throw new FleetError(
      'unavailable',
      'cannot ask Gmail which account consented; nothing was stored, run the command again',
      { cause: error, retryable: true },
    );
  }
  if (!response.ok) {
    throw new FleetError(
      'unavailable',
      `Gmail did not say which account consented (HTTP ${response.status}); nothing was stored, run the command again`,
      {
        retryable: response.status >= 500 || response.status === 429,
      },
    );
  }
  const raw =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['emailAddress'] : undefined;
  const account = typeof raw === 'string' ? normaliseAddress(raw) : undefined;
  if (account === undefined)
    throw new FleetError(
      'unavailable',
      'Gmail answered without a valid address for the consenting account; nothing was stored',
    );
  return account;
}
