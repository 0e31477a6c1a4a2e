import type { AuthorizationCodeFlow } from './oauth-authorization-code.ts';
import { json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';

/** Google's OAuth token endpoint: refresh tokens (rotated on use when asked), access tokens and scopes. */
export class GoogleTokenEndpoint {
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #codes: AuthorizationCodeFlow;
  readonly #rotate: boolean;
  readonly #ttlSeconds: number;
  readonly #refreshTokens = new Map<string, { status: 'active' | 'rotated' | 'revoked'; scopes: string[]; grant: string }>();
  readonly #accessTokens = new Map<string, { scopes: string[]; expiresAt: number; grant: string }>();

  constructor(options: { clientId: string; clientSecret: string; codes: AuthorizationCodeFlow; rotate: boolean; ttlSeconds: number }) {
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#codes = options.codes;
    this.#rotate = options.rotate;
    this.#ttlSeconds = options.ttlSeconds;
  }

  /** A refresh token as the consent flow would have stored it. */
  issueRefreshToken(scopes: string[], grant = `grant-${randomId()}`): string {
    const token = `1//rt-${randomId()}`;
    this.#refreshTokens.set(token, { status: 'active', scopes: [...scopes], grant });
    return token;
  }

  /** Whether a refresh token would still be honoured (not rotated away, not revoked). */
  isActive(refreshToken: string): boolean {
    return this.#refreshTokens.get(refreshToken)?.status === 'active';
  }

  /**
   * Google's revocation endpoint (POST https://oauth2.googleapis.com/revoke): form-encoded `token`, an
   * access or a refresh token; it ends the whole grant (every refresh and access token of the consent).
   * An unknown, expired or already revoked token is 400 invalid_token, as at Google.
   */
  revoke(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'Method not allowed' });
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) return json(400, { error: 'invalid_request', error_description: 'Bad Request' });
    const fromBody = new URLSearchParams(request.body).getAll('token');
    const fromQuery = request.url.searchParams.getAll('token');
    const tokens = [...fromBody, ...fromQuery];
    if (tokens.length !== 1 || tokens[0] === '') return json(400, { error: 'invalid_request', error_description: 'Missing required parameter: token' });
    const token = tokens[0] as string;
    const refresh = this.#refreshTokens.get(token);
    const access = this.#accessTokens.get(token);
    const grant = refresh?.status === 'active' ? refresh.grant : access !== undefined && access.expiresAt > Date.now() ? access.grant : null;
    if (grant === null) return json(400, { error: 'invalid_token', error_description: 'Token expired or revoked' });
    for (const state of this.#refreshTokens.values()) if (state.grant === grant) state.status = 'revoked';
    for (const [key, state] of this.#accessTokens) if (state.grant === grant) this.#accessTokens.delete(key);
    return json(200, {});
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
      const grantId = `grant-${randomId()}`;
      this.#accessTokens.set(accessToken, { scopes: grant.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000, grant: grantId });
      return json(200, {
        access_token: accessToken,
        expires_in: this.#ttlSeconds,
        scope: grant.scopes.join(' '),
        token_type: 'Bearer',
        ...(grant.offline ? { refresh_token: this.issueRefreshToken(grant.scopes, grantId) } : {}),
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
    this.#accessTokens.set(accessToken, { scopes: state.scopes, expiresAt: Date.now() + this.#ttlSeconds * 1000, grant: state.grant });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: this.#ttlSeconds,
      scope: state.scopes.join(' '),
      token_type: 'Bearer',
    };
    if (this.#rotate) {
      state.status = 'rotated';
      const next = this.issueRefreshToken(state.scopes, state.grant);
      body['refresh_token'] = next;
    }
    return json(200, body);
  }
}
