import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuthorizationRequest } from '../../ports/oauth-consent.ts';
import type { AccountAwareOAuthConsent, IdentifiableConsentGrant } from '../../services/connect-mailbox.ts';
import { consentingMicrosoftAccount } from './microsoft-id-token.ts';
import { codeChallengeS256, createCodeVerifier, createState, nonceForVerifier } from './pkce.ts';
import { tokenEndpointError } from './token-errors.ts';

export interface MicrosoftOAuthConsentOptions {
  clientId: string;
  clientSecret: string;
  /** Entra tenant id or domain, or `common` / `organizations`. */
  tenant: string;
  /** Default https://login.microsoftonline.com (national clouds and tests override it). */
  authorityHost?: string;
  /** Bound on the token request, ms. Default 30 s. */
  requestTimeoutMs?: number;
  /** Clock for the ID token's lifetime, ms since the epoch. Default Date.now. */
  now?: () => number;
}

const GRAPH_RESOURCE = 'https://graph.microsoft.com/';
const TENANT = /^[A-Za-z0-9.-]{1,100}$/;
const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
/**
 * Asked for beside the mail scopes so the token response carries an ID token naming the consenting
 * account (`email`). The least privilege that tells: Graph's `/me` would need User.Read, a Graph
 * permission the agent would then hold for ever; these two only shape the ID token.
 */
const IDENTITY_SCOPES = ['openid', 'email'];
/** Sign-in scopes: no access to the mailbox, so never part of the grant's scopes compared or recorded. */
const SIGN_IN_SCOPES = new Set(['openid', 'email', 'profile']);
/** What the operator must do about a refused grant, since Microsoft cannot revoke one grant by API. */
const MANUAL_REVOCATION =
  "Microsoft has no API that revokes a single grant (revokeSignInSessions would end every session of the user, in every app): signed in as that account, remove the app's permissions at https://myapps.microsoft.com (a tenant admin can delete the grant in Entra ID › Enterprise applications)";

/**
 * Microsoft identity platform v2 authorization code + PKCE, as plain RFC 6749/7636 requests. MSAL Node's
 * acquireTokenByCode keeps the refresh token inside its own cache and deliberately never returns it; the
 * agent refreshes by itself from the stored refresh token (graph-token-source.ts), so we need it in hand.
 */
export class MicrosoftOAuthConsent implements AccountAwareOAuthConsent {
  readonly #options: MicrosoftOAuthConsentOptions;
  readonly #base: string;

  constructor(options: MicrosoftOAuthConsentOptions) {
    if (!TENANT.test(options.tenant)) throw new FleetError('invalid_input', 'the tenant may contain letters, digits, dots and dashes only');
    this.#options = options;
    this.#base = `${this.#authorityHost()}/${encodeURIComponent(options.tenant)}/oauth2/v2.0`;
  }

  async createAuthorizationRequest(input: { scopes: readonly string[]; redirectUri: string }): Promise<AuthorizationRequest> {
    const codeVerifier = createCodeVerifier();
    const state = createState();
    const query = new URLSearchParams({
      client_id: this.#options.clientId,
      response_type: 'code',
      redirect_uri: input.redirectUri,
      response_mode: 'query',
      scope: withIdentityScopes(input.scopes).join(' '),
      state,
      nonce: nonceForVerifier(codeVerifier),
      code_challenge: codeChallengeS256(codeVerifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    return { url: `${this.#base}/authorize?${query}`, state, codeVerifier };
  }

  async exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<IdentifiableConsentGrant> {
    const form = new URLSearchParams({
      client_id: this.#options.clientId,
      client_secret: this.#options.clientSecret,
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      code_verifier: input.codeVerifier,
    });
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${this.#base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      throw tokenEndpointError('Microsoft', undefined, null, error);
    }
    if (!response.ok) throw tokenEndpointError('Microsoft', response.status, body);
    const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof data['refresh_token'] !== 'string' || data['refresh_token'] === '') {
      throw new FleetError('unauthorized', 'Microsoft returned no refresh token: offline_access was not granted; connect again and accept it');
    }
    const scope = typeof data['scope'] === 'string' ? data['scope'] : '';
    const idToken = data['id_token'];
    const nonce = nonceForVerifier(input.codeVerifier);
    return {
      refreshToken: data['refresh_token'],
      // A refresh token is what offline_access grants; Microsoft leaves it out of `scope`.
      grantedScopes: [
        'offline_access',
        ...scope
          .split(' ')
          .filter((s) => s !== '')
          .map(normaliseGraphScope)
          .filter((s) => !SIGN_IN_SCOPES.has(s.toLowerCase())),
      ],
      consentingAccount: () =>
        new Promise<string>((resolve) =>
          resolve(
            consentingMicrosoftAccount(idToken, {
              clientId: this.#options.clientId,
              authorityHost: this.#authorityHost(),
              tenant: this.#options.tenant,
              nonce,
              now: (this.#options.now ?? Date.now)(),
            }),
          ),
        ),
      revoke: () => Promise.resolve({ outcome: 'manual', instructions: MANUAL_REVOCATION }),
    };
  }

  #authorityHost(): string {
    return (this.#options.authorityHost ?? DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  }
}

function withIdentityScopes(scopes: readonly string[]): string[] {
  const asked = new Set(scopes.map((scope) => scope.toLowerCase()));
  return [...scopes, ...IDENTITY_SCOPES.filter((scope) => !asked.has(scope))];
}

/** Graph scopes come back resource-prefixed ("https://graph.microsoft.com/Mail.Read"); we request them bare. */
export function normaliseGraphScope(scope: string): string {
  return scope.toLowerCase().startsWith(GRAPH_RESOURCE) ? scope.slice(GRAPH_RESOURCE.length) : scope;
}
