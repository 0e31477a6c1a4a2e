import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuthorizationRequest } from '../../ports/oauth-consent.ts';
import type { AccountAwareOAuthConsent, IdentifiableConsentGrant } from '../../services/connect-mailbox.ts';
import { codeChallengeS256, createCodeVerifier, createState } from './pkce.ts';
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
}

const GRAPH_RESOURCE = 'https://graph.microsoft.com/';
const TENANT = /^[A-Za-z0-9.-]{1,100}$/;

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
    this.#base = `${(options.authorityHost ?? 'https://login.microsoftonline.com').replace(/\/+$/, '')}/${encodeURIComponent(options.tenant)}/oauth2/v2.0`;
  }

  async createAuthorizationRequest(input: { scopes: readonly string[]; redirectUri: string }): Promise<AuthorizationRequest> {
    const codeVerifier = createCodeVerifier();
    const state = createState();
    const query = new URLSearchParams({
      client_id: this.#options.clientId,
      response_type: 'code',
      redirect_uri: input.redirectUri,
      response_mode: 'query',
      scope: input.scopes.join(' '),
      state,
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
    return {
      refreshToken: data['refresh_token'],
      // A refresh token is what offline_access grants; Microsoft leaves it out of `scope`.
      grantedScopes: ['offline_access', ...scope.split(' ').filter((s) => s !== '').map(normaliseGraphScope)],
      // Graph names the user only under User.Read or the OpenID scopes, neither of which the mailbox needs.
      consentingAccount: () => Promise.resolve(null),
    };
  }
}

/** Graph scopes come back resource-prefixed ("https://graph.microsoft.com/Mail.Read"); we request them bare. */
export function normaliseGraphScope(scope: string): string {
  return scope.toLowerCase().startsWith(GRAPH_RESOURCE) ? scope.slice(GRAPH_RESOURCE.length) : scope;
}
