import type { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';

/** Google's OAuth token endpoint: refresh tokens (rotated on use when asked), access tokens and scopes. */
export class GoogleTokenEndpoint {
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #codes: AuthorizationCodeFlow;
  readonly #rotate: boolean;
  readonly #ttlSeconds: number;
  readonly #refreshTokens = new Map<string, { status: 'active' | 'rotated' | 'revoked'; scopes: string[] }>();
  readonly #accessTokens = new Map<string, { scopes: string[]; expiresAt: number }>();

  constructor(options: { clientId: string; clientSecret: string; codes: AuthorizationCodeFlow; rotate: boolean; ttlSeconds: number }) {
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#codes = options.codes;
    this.#rotate = options.rotate;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** A refresh token as the consent flow would have stored it. */
  issueRefreshToken(scopes: string[]): string {
    const token = `1//rt-${randomId()}`;
    this.#refreshTokens.set(token, { status: 'active', scopes: [...scopes] });
    return token;
  }

  /** Every refresh and access token stops working. */
  revokeAll(): void {
    for (const state of this.#refreshTokens.values()) state.status = 'revoked';
    this.#accessTokens.clear();
  }

  invalidateAccessTokens(): void {
    this.#accessTokens.clear();
  }

  /** The scopes of a live access token; undefined when it is unknown or expired. */
  access(token: string | null): { scopes: string[] } | undefined {
    const access = token === null ? undefined : this.#accessTokens.get(token);
    return access === undefined || access.expiresAt <= Date.now() ? undefined : access;
  }

  handle(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST') return json(405, { error: 'invalid_request' });
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return json(400, { error: 'invalid_request', error_description: 'Bad Request' });
    }
    const form = new URLSearchParams(request.body);
    if (form.get('client_id') !== this.#clientId || form.get('client_secret') !== this.#clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'The OAuth client was not found.' });
    }
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.#codes.redeem(form);
      if ('status' in grant) return grant;
      const accessToken = `ya29.${randomId()}${randomId()}`;
      this.#accessTokens.set(accessToken, { scopes: grant.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000 });
      return json(200, {
        access_token: accessToken,
        expires_in: this.#ttlSeconds,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
        ...(grant.offline ? { refresh_token: this.issueRefreshToken(grant.scopes) } : {}),
      });
    }
    if (form.get('grant_type') !== 'refresh_token') {
      return json(400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' });
    }
    const refreshToken = form.get('refresh_token') ?? '';
    const state = this.#refreshTokens.get(refreshToken);
    if (state === undefined || state.status !== 'active') {
      return json(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    }
    const accessToken = `ya29.${randomId()}${randomId()}`;
    this.#accessTokens.set(accessToken, { scopes: state.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000 });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: this.#ttlSeconds,
      scope: state.scopes.join(' '),
      token_type: 'Bearer',
    };
    if (this.#rotate) {
      state.status = 'rotated';
      const next = this.issueRefreshToken(state.scopes);
      body['refresh_token'] = next;
    }
    return json(200, body);
  }
}
