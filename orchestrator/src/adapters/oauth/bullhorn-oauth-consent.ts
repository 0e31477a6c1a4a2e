import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuthorizationRequest } from '../../ports/oauth-consent.ts';
import type { AccountAwareOAuthConsent, IdentifiableConsentGrant } from '../../services/connect-mailbox.ts';
import { createState } from './pkce.ts';
import { tokenEndpointError } from './token-errors.ts';

export interface BullhornOAuthConsentOptions {
  clientId: string;
  clientSecret: string;
  /** OAuth server root, e.g. https://auth-west.bullhornstaffing.com (tests: the Bullhorn emulator). */
  authUrl: string;
  requestTimeoutMs?: number;
}

/**
 * Bullhorn's OAuth 2 authorization-code flow. Bullhorn has no scopes (what the integration may do is the
 * API user's entitlements) and no PKCE: the client secret authenticates the code exchange, and `state`
 * still ties the redirect to this request. The redirect URI must be registered with the API key.
 */
export class BullhornOAuthConsent implements AccountAwareOAuthConsent {
  readonly #options: BullhornOAuthConsentOptions;

  constructor(options: BullhornOAuthConsentOptions) {
    this.#options = options;
  }

  createAuthorizationRequest(input: { scopes: readonly string[]; redirectUri: string }): Promise<AuthorizationRequest> {
    const state = createState();
    const url = new URL('/oauth/authorize', this.#options.authUrl);
    url.searchParams.set('client_id', this.#options.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', input.redirectUri);
    url.searchParams.set('state', state);
    return Promise.resolve({ url: url.toString(), state, codeVerifier: '' });
  }

  async exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<IdentifiableConsentGrant> {
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(new URL('/oauth/token', this.#options.authUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        // In the body, not the query string of Bullhorn's examples: the secret stays out of URLs and logs.
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: input.code,
          client_id: this.#options.clientId,
          client_secret: this.#options.clientSecret,
          redirect_uri: input.redirectUri,
        }),
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 30_000),
      });
      body = await response.json().catch(() => null);
    } catch (error) {
      throw tokenEndpointError('Bullhorn', undefined, null, error);
    }
    if (!response.ok) throw tokenEndpointError('Bullhorn', response.status, body);
    const data = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof data['refresh_token'] !== 'string' || data['refresh_token'] === '') {
      throw new FleetError('unauthorized', 'Bullhorn returned no refresh token; connect again');
    }
    return {
      refreshToken: data['refresh_token'],
      grantedScopes: [],
      consentingAccount: () => Promise.resolve(null),
      revoke: () => Promise.resolve({ outcome: 'manual', instructions: 'Bullhorn has no API that revokes a grant' }),
    };
  }
}
