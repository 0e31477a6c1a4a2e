import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** Seconds of clock skew allowed on `exp` and `nbf`. */
const SKEW_SECONDS = 300;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Far above any real ID token; a bound on what is decoded. */
const MAX_ID_TOKEN_LENGTH = 16_384;

export interface MicrosoftIdTokenExpectations {
  /** The application (client) id: the token's `aud`. */
  clientId: string;
  /** e.g. https://login.microsoftonline.com: the issuer is `<host>/<tid>/v2.0`. */
  authorityHost: string;
  /** The tenant the flow ran against; when it is a tenant GUID, the token's `tid` must be it. */
  tenant: string;
  /** The `nonce` the authorization request carried. */
  nonce: string;
  /** Now, ms since the epoch. */
  now: number;
}

/**
 * The consenting account's address from the ID token of a Microsoft identity platform (v2) code exchange,
 * lower-cased. The token came straight from the token endpoint over TLS, which OpenID Connect Core
 * §3.1.3.7 accepts in place of checking its signature; issuer, audience, lifetime and nonce are checked.
 * The `email` claim (scope `email`) is the user's mail address; a token without one cannot tell the
 * account, so the grant must not be stored as the configured mailbox. Throws FleetError `forbidden`.
 * A tenant admin can set a user's mail to an address of a domain the tenant does not own (Microsoft's
 * optional `xms_edov` claim tells): this catches the wrong account consenting, not a hostile tenant.
 */
export function consentingMicrosoftAccount(idToken: unknown, expected: MicrosoftIdTokenExpectations): string {
  const claims = decodeClaims(idToken);
  const refuse = (why: string) =>
    new FleetError('forbidden', `Microsoft's ID token does not prove which account consented (${why}); nothing was stored`);
  if (claims === null) throw refuse('no ID token, or one that cannot be read');
  if (claims['aud'] !== expected.clientId) throw refuse('it was issued to another application');
  const tid = claims['tid'];
  if (typeof tid !== 'string' || !GUID.test(tid)) throw refuse('no tenant id');
  if (GUID.test(expected.tenant) && tid.toLowerCase() !== expected.tenant.toLowerCase()) throw refuse('it was issued in another tenant');
  if (claims['iss'] !== `${expected.authorityHost.replace(/\/+$/, '')}/${tid}/v2.0`) throw refuse('another issuer');
  const nowSeconds = expected.now / 1000;
  const exp = claims['exp'];
  if (typeof exp !== 'number' || exp + SKEW_SECONDS <= nowSeconds) throw refuse('it has expired');
  const nbf = claims['nbf'];
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf - SKEW_SECONDS > nowSeconds)) throw refuse('it is not valid yet');
  if (claims['nonce'] !== expected.nonce) throw refuse('it answers another request');
  const email = typeof claims['email'] === 'string' ? normaliseAddress(claims['email']) : undefined;
  if (email === undefined) throw refuse('it names no mail address for the account');
  return email;
}

function decodeClaims(idToken: unknown): Record<string, unknown> | null {
  if (typeof idToken !== 'string' || idToken.length > MAX_ID_TOKEN_LENGTH) return null;
  const parts = idToken.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) return null;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
