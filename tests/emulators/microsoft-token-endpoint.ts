import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { bearerToken, json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';
import { graphError } from './graph-emulator-support.ts';
import type { AuthorizationCodeFlow } from './oauth-authorization-code.ts';

/** OpenID Connect scopes, granted with any consent; offline_access is the refresh token's. */
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
/** Sign-in scopes: they shape the ID token and are reported bare, not as Graph permissions. */
const SIGN_IN_SCOPES = ['openid', 'profile', 'email'];
/** The emulated user's home tenant id (`tid`), a GUID as in Entra. */
const DEFAULT_TENANT_ID = 'c0ffee00-0000-4000-8000-000000000001';
const ID_TOKEN_TTL_SECONDS = 3600;

/** The emulator's ID token signing key (RS256, as the identity platform signs). */
let signingKey: ReturnType<typeof generateKeyPairSync> | null = null;

/** The Microsoft identity platform token endpoint: rotating refresh tokens, access tokens, scopes. */
export class MicrosoftTokenEndpoint {
  readonly #clientId: string;
  readonly #clientSecret: string;
  readonly #codes: AuthorizationCodeFlow;
  readonly #refreshTokens = new Map<string, { status: 'active' | 'rotated' | 'revoked'; scopes: string[] }>();
  readonly #accessTokens = new Map<string, { scopes: string[]; expiresAt: number }>();

  readonly #account: string;
  readonly #tenantId: string;

  /** `account`: who signs in unless the consent page says otherwise (default the Graph emulator's default mailbox). */
  constructor(options: { clientId: string; clientSecret: string; codes: AuthorizationCodeFlow; account?: string; tenantId?: string }) {
    this.#clientId = options.clientId;
    this.#clientSecret = options.clientSecret;
    this.#codes = options.codes;
    this.#account = options.account ?? 'agent@acme.example';
    this.#tenantId = options.tenantId ?? DEFAULT_TENANT_ID;
  }

  issueRefreshToken(scopes: string[]): string {
    const token = `M.R3_${randomId()}`;
    this.#refreshTokens.set(token, { status: 'active', scopes });
    return token;
  }

  revokeAll(): void {
    for (const state of this.#refreshTokens.values()) state.status = 'revoked';
    this.#accessTokens.clear();
  }

  invalidateAccessTokens(): void {
    this.#accessTokens.clear();
  }

  authenticate(request: EmulatorRequest): { scopes: string[] } | EmulatorResponse {
    const token = bearerToken(request.headers);
    if (token === null) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const access = this.#accessTokens.get(token);
    if (access === undefined || access.expiresAt <= Date.now()) {
      return graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    }
    return access;
  }

  handle(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST' || !String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return json(400, { error: 'invalid_request', error_description: "AADSTS900144: The request body must contain the following parameter: 'grant_type'." });
    }
    const form = new URLSearchParams(request.body);
    if (form.get('client_id') !== this.#clientId || form.get('client_secret') !== this.#clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.', error_codes: [7000215] });
    }
    if (form.get('grant_type') === 'authorization_code') {
      const grant = this.#codes.redeem(form);
      if ('status' in grant) return grant;
      // Graph answers with resource-qualified scopes and leaves offline_access out; the refresh token is its sign.
      const scopes = grant.scopes.filter((scope) => scope !== 'offline_access');
      const accessToken = `eyJ0eXAi.${randomId()}${randomId()}`;
      this.#accessTokens.set(accessToken, { scopes, expiresAt: Date.now() + 3600_000 });
      const openid = scopes.some((scope) => scope.toLowerCase() === 'openid');
      return json(200, {
        token_type: 'Bearer',
        scope: scopes.map((scope) => (SIGN_IN_SCOPES.includes(scope.toLowerCase()) ? scope : `https://graph.microsoft.com/${scope}`)).join(' '),
        expires_in: 3600,
        ext_expires_in: 3600,
        access_token: accessToken,
        ...(grant.offline ? { refresh_token: this.issueRefreshToken(scopes) } : {}),
        ...(openid ? { id_token: this.#idToken(request, scopes, grant.nonce, grant.account ?? this.#account) } : {}),
      });
    }
    if (form.get('grant_type') !== 'refresh_token') return json(400, { error: 'unsupported_grant_type' });
    return this.#refresh(form);
  }

  /**
   * A v2.0 ID token as the identity platform issues it from the token endpoint: `email` only under the
   * `email` scope, `preferred_username` and `name` only under `profile`, the nonce echoed, RS256-signed.
   */
  #idToken(request: EmulatorRequest, scopes: string[], nonce: string | null, account: string): string {
    const has = (scope: string) => scopes.some((granted) => granted.toLowerCase() === scope);
    const now = Math.floor(Date.now() / 1000);
    const oid = createHash('sha256').update(account).digest('hex');
    const claims = {
      ver: '2.0',
      iss: `http://${String(request.headers.host ?? '127.0.0.1')}/${this.#tenantId}/v2.0`,
      aud: this.#clientId,
      iat: now,
      nbf: now,
      exp: now + ID_TOKEN_TTL_SECONDS,
      tid: this.#tenantId,
      oid: `${oid.slice(0, 8)}-${oid.slice(8, 12)}-4${oid.slice(13, 16)}-8${oid.slice(17, 20)}-${oid.slice(20, 32)}`,
      sub: createHash('sha256').update(`${this.#clientId}:${account}`).digest('base64url'),
      ...(nonce === null ? {} : { nonce }),
      ...(has('email') ? { email: account } : {}),
      ...(has('profile') ? { preferred_username: account, name: account.split('@')[0] } : {}),
    };
    signingKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const signed = `${encode({ typ: 'JWT', alg: 'RS256', kid: 'emulator-key' })}.${encode(claims)}`;
    return `${signed}.${sign('sha256', Buffer.from(signed), signingKey.privateKey).toString('base64url')}`;
  }

  #refresh(form: URLSearchParams): EmulatorResponse {
    const state = this.#refreshTokens.get(form.get('refresh_token') ?? '');
    if (state === undefined || state.status !== 'active') {
      return json(400, {
        error: 'invalid_grant',
        error_description: 'AADSTS70000: The provided grant has expired due to it being revoked.',
        error_codes: [70000],
      });
    }
    // As the identity platform: a scope asked for on refresh must have been consented (fully qualified
    // Graph scopes and `.default` too), or the whole grant fails with AADSTS65001 consent_required.
    const requested = (form.get('scope') ?? '')
      .split(' ')
      .map((scope) => scope.replace(/^https:\/\/graph\.microsoft\.com\//i, ''))
      .filter((scope) => scope !== '' && !OIDC_SCOPES.includes(scope.toLowerCase()));
    const unconsented = requested.filter((scope) => scope !== '.default' && !state.scopes.some((granted) => granted.toLowerCase() === scope.toLowerCase()));
    if (unconsented.length > 0) {
      return json(400, {
        error: 'invalid_grant',
        error_description: `AADSTS65001: The user or administrator has not consented to use the application with ID '${this.#clientId}'. Send an interactive authorization request for this user and resource.`,
        error_codes: [65001],
        suberror: 'consent_required',
      });
    }
    const scopes = requested.length === 0 || requested.includes('.default') ? state.scopes : state.scopes.filter((granted) => requested.some((scope) => scope.toLowerCase() === granted.toLowerCase()));
    const accessToken = `eyJ0eXAi.${randomId()}${randomId()}`;
    this.#accessTokens.set(accessToken, { scopes, expiresAt: Date.now() + 3600_000 });
    state.status = 'rotated';
    return json(200, {
      token_type: 'Bearer',
      scope: scopes.join(' '),
      expires_in: 3600,
      ext_expires_in: 3600,
      access_token: accessToken,
      refresh_token: this.issueRefreshToken(state.scopes),
    });
  }
}
