import { CodeChallengeMethod, OAuth2Client, type OAuth2ClientOptions } from 'google-auth-library';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuthorizationRequest } from '../../ports/oauth-consent.ts';
import type { AccountAwareOAuthConsent, IdentifiableConsentGrant } from '../../services/connect-mailbox.ts';
import { consentingGmailAccount } from './gmail-consenting-account.ts';
import { revokeGoogleGrant } from './google-grant-revocation.ts';
import { createState } from './pkce.ts';
import { tokenEndpointError } from './token-errors.ts';

export interface GoogleOAuthConsentOptions {
  clientId: string;
  clientSecret: string;
  /** Default https://accounts.google.com/o/oauth2/v2/auth (tests: the Gmail emulator). */
  authorizationUrl?: string;
  /** Default https://oauth2.googleapis.com/token. */
  tokenUrl?: string;
  /** Gmail API root, where the consenting account is looked up. Default https://gmail.googleapis.com/. */
  gmailApiUrl?: string;
  /** Where a refused grant is revoked. Default https://oauth2.googleapis.com/revoke. */
  revokeUrl?: string;
  /** Bound on each request to Google (the code exchange, the account lookup), ms. Default 30 s. */
  requestTimeoutMs?: number;
}

/** Google's authorization-code flow with PKCE, through google-auth-library's OAuth2Client. */
export class GoogleOAuthConsent implements AccountAwareOAuthConsent {
  readonly #options: GoogleOAuthConsentOptions;

  constructor(options: GoogleOAuthConsentOptions) {
    this.#options = options;
  }

  async createAuthorizationRequest(input: { scopes: readonly string[]; redirectUri: string }): Promise<AuthorizationRequest> {
    const client = this.#client(input.redirectUri);
    const { codeVerifier, codeChallenge } = await client.generateCodeVerifierAsync();
    if (codeChallenge === undefined) throw new FleetError('internal', 'google-auth-library returned no PKCE challenge');
    const state = createState();
    const url = client.generateAuthUrl({
      // offline + consent: Google returns a refresh token only then (and again on every re-connect).
      access_type: 'offline',
      prompt: 'consent',
      scope: [...input.scopes],
      state,
      code_challenge: codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
    });
    return { url, state, codeVerifier };
  }

  async exchangeCode(input: { code: string; codeVerifier: string; redirectUri: string }): Promise<IdentifiableConsentGrant> {
    const client = this.#client(input.redirectUri);
    let tokens: { refresh_token?: string | null; access_token?: string | null; scope?: string | null };
    try {
      ({ tokens } = await client.getToken({ code: input.code, codeVerifier: input.codeVerifier, redirect_uri: input.redirectUri }));
    } catch (error) {
      const response = (error as { response?: { status?: number; data?: unknown } }).response;
      throw tokenEndpointError('Google', response?.status, response?.data, error);
    }
    if (!tokens.refresh_token) {
      throw new FleetError('unauthorized', 'Google returned no refresh token; revoke the app’s access in the Google account and connect again');
    }
    const grantedScopes = (tokens.scope ?? '').split(' ').filter((s) => s !== '');
    const accessToken = tokens.access_token ?? null;
    const refreshToken = tokens.refresh_token;
    return {
      refreshToken,
      grantedScopes,
      consentingAccount: () =>
        consentingGmailAccount({
          gmailApiUrl: this.#options.gmailApiUrl ?? 'https://gmail.googleapis.com/',
          accessToken,
          grantedScopes,
          requestTimeoutMs: this.#timeoutMs(),
        }),
      revoke: async () => {
        await revokeGoogleGrant({
          revokeUrl: this.#options.revokeUrl ?? 'https://oauth2.googleapis.com/revoke',
          refreshToken,
          requestTimeoutMs: this.#timeoutMs(),
        });
        return { outcome: 'revoked' };
      },
    };
  }

  #timeoutMs(): number {
    return googleRequestTimeoutMs(this.#options);
  }

  #client(redirectUri: string): OAuth2Client {
    return new OAuth2Client(googleOAuthClientOptions(this.#options, redirectUri));
  }
}

function googleRequestTimeoutMs(options: GoogleOAuthConsentOptions): number {
  return options.requestTimeoutMs ?? 30_000;
}

/** The options each flow's OAuth2Client is built with: our endpoints, and a bound on every request. */
export function googleOAuthClientOptions(options: GoogleOAuthConsentOptions, redirectUri: string): OAuth2ClientOptions {
  return {
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    redirectUri,
    // google-auth-library waits for ever by default: a token endpoint that never answers would hang the flow.
    transporterOptions: { timeout: googleRequestTimeoutMs(options) },
    endpoints: {
      ...(options.authorizationUrl === undefined ? {} : { oauth2AuthBaseUrl: options.authorizationUrl }),
      ...(options.tokenUrl === undefined ? {} : { oauth2TokenUrl: options.tokenUrl }),
    },
  };
}
