import { json, randomId, type EmulatorRequest, type EmulatorResponse } from './http-emulator.ts';

/**
 * Bullhorn's login chain, strict: the OAuth 2 authorization-code and refresh-token grants (refresh
 * tokens rotate: each use issues a new one and kills the old), access tokens valid 10 minutes, and
 * `rest-services/login` trading an access token for a BhRestToken session that times out when idle.
 */

interface Grant {
  revoked: boolean;
}

interface Expiring {
  grant: Grant;
  expiresAt: number;
}

interface PendingCode extends Expiring {
  redirectUri: string | null;
}

const ACCESS_TTL_SECONDS = 600;
const CODE_TTL_MS = 5 * 60_000;

export class BullhornOAuth {
  readonly clientId = `bh-client-${randomId()}`;
  readonly clientSecret = `bh-secret-${randomId()}${randomId()}`;
  /** Redirect URIs registered with the API key; `authorize` accepts only these. */
  readonly redirectUris: string[] = ['http://127.0.0.1/bullhorn/callback'];
  /** What the emulated Bullhorn user does on the login / terms page. */
  behaviour: 'consent' | 'deny' = 'consent';
  /** Minutes a session lives without use when login asks for no `ttl`. */
  defaultSessionMinutes = 10;
  readonly #codes = new Map<string, PendingCode>();
  readonly #refreshTokens = new Map<string, Grant>();
  readonly #accessTokens = new Map<string, Expiring>();
  readonly #sessions = new Map<string, Expiring & { ttlMs: number }>();
  readonly #grants: Grant[] = [];

  /** A refresh token as if the client had consented earlier (what `fleet connect` stores). */
  issueRefreshToken(): string {
    const grant: Grant = { revoked: false };
    this.#grants.push(grant);
    const token = `bh-refresh-${randomId()}${randomId()}`;
    this.#refreshTokens.set(token, grant);
    return token;
  }

  isRefreshTokenValid(token: string): boolean {
    const grant = this.#refreshTokens.get(token);
    return grant !== undefined && !grant.revoked;
  }

  /** The Bullhorn admin removes the integration's access: every token and session of every grant dies. */
  revokeConsent(): void {
    for (const grant of this.#grants) grant.revoked = true;
  }

  expireAccessTokens(): void {
    for (const token of this.#accessTokens.values()) token.expiresAt = 0;
  }

  expireSessions(): void {
    for (const session of this.#sessions.values()) session.expiresAt = 0;
  }

  /** The session behind a BhRestToken, touched (idle timeout restarts), or null when unknown or dead. */
  useSession(token: string): boolean {
    const session = this.#sessions.get(token);
    if (session === undefined || session.grant.revoked || session.expiresAt <= Date.now()) return false;
    session.expiresAt = Date.now() + session.ttlMs;
    return true;
  }

  /** GET /oauth/authorize: the Bullhorn login and terms page, then a redirect with the code. */
  authorize(request: EmulatorRequest): EmulatorResponse {
    const query = request.url.searchParams;
    if (request.method !== 'GET') return page(405, 'The authorization endpoint takes GET.');
    if (query.get('client_id') !== this.clientId) return page(400, 'Invalid client_id.');
    const redirectUri = query.get('redirect_uri');
    if (redirectUri !== null && !this.redirectUris.includes(redirectUri)) return page(400, 'Invalid redirect_uri: not registered for this client.');
    if (query.get('response_type') !== 'code') return page(400, 'Invalid response_type: must be code.');
    const target = new URL(redirectUri ?? (this.redirectUris[0] as string));
    const state = query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    if (this.behaviour === 'deny') {
      target.searchParams.set('error', 'access_denied');
      return { status: 302, headers: { location: target.toString() } };
    }
    const grant: Grant = { revoked: false };
    this.#grants.push(grant);
    const code = `22.${randomId()}${randomId()}`;
    this.#codes.set(code, { grant, redirectUri, expiresAt: Date.now() + CODE_TTL_MS });
    target.searchParams.set('code', code);
    return { status: 302, headers: { location: target.toString() } };
  }

  /** POST /oauth/token: parameters in the query string (Bullhorn's examples) or a form body (RFC 6749). */
  token(request: EmulatorRequest): EmulatorResponse {
    if (request.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'POST required' });
    const form = new URLSearchParams(request.url.search);
    const type = request.headers['content-type'] ?? '';
    if (request.body !== '') {
      if (!type.startsWith('application/x-www-form-urlencoded')) return json(400, { error: 'invalid_request', error_description: 'form body required' });
      for (const [name, value] of new URLSearchParams(request.body)) form.set(name, value);
    }
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'Bad client credentials' });
    }
    const grantType = form.get('grant_type');
    let grant: Grant;
    if (grantType === 'authorization_code') {
      const code = form.get('code') ?? '';
      const pending = this.#codes.get(code);
      this.#codes.delete(code);
      if (pending === undefined || pending.expiresAt <= Date.now()) return invalidGrant('Invalid authorization code');
      if (pending.redirectUri !== null && pending.redirectUri !== form.get('redirect_uri')) return invalidGrant('Redirect URI mismatch');
      grant = pending.grant;
    } else if (grantType === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      const held = this.#refreshTokens.get(presented);
      // Rotation: a refresh token works once.
      this.#refreshTokens.delete(presented);
      if (held === undefined || held.revoked) return invalidGrant('Invalid refresh token');
      grant = held;
    } else {
      return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${String(grantType).slice(0, 40)}` });
    }
    const accessToken = `bh-access-${randomId()}${randomId()}`;
    const refreshToken = `bh-refresh-${randomId()}${randomId()}`;
    this.#accessTokens.set(accessToken, { grant, expiresAt: Date.now() + ACCESS_TTL_SECONDS * 1000 });
    this.#refreshTokens.set(refreshToken, grant);
    return json(200, { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TTL_SECONDS, refresh_token: refreshToken });
  }

  /** GET or POST /rest-services/login?version=*&access_token=…[&ttl=minutes]. */
  login(request: EmulatorRequest, restUrl: string): EmulatorResponse {
    if (request.method !== 'GET' && request.method !== 'POST') return restError(405, 'Method not allowed', 'errors.methodNotAllowed');
    const query = request.url.searchParams;
    const version = query.get('version');
    if (version !== '*' && version !== '2.0') return restError(400, "Missing or invalid required parameter 'version'", 'errors.badRequest');
    const ttl = query.get('ttl');
    if (ttl !== null && !/^[1-9]\d{0,4}$/.test(ttl)) return restError(400, "Invalid parameter 'ttl'", 'errors.badRequest');
    const access = this.#accessTokens.get(query.get('access_token') ?? '');
    if (access === undefined || access.grant.revoked || access.expiresAt <= Date.now()) {
      return restError(401, 'Invalid or expired OAuth access token.', 'errors.authentication.invalidAccessToken');
    }
    const token = crypto.randomUUID();
    const ttlMs = Number(ttl ?? this.defaultSessionMinutes) * 60_000;
    this.#sessions.set(token, { grant: access.grant, expiresAt: Date.now() + ttlMs, ttlMs });
    return json(200, { BhRestToken: token, restUrl });
  }
}

/** Bullhorn's REST error body. */
export function restError(status: number, message: string, key: string, headers: Record<string, string> = {}): EmulatorResponse {
  return json(status, { errorMessage: message, errorMessageKey: key, errorCode: status }, headers);
}

function invalidGrant(description: string): EmulatorResponse {
  return json(400, { error: 'invalid_grant', error_description: description });
}

function page(status: number, message: string): EmulatorResponse {
  return { status, headers: { 'content-type': 'text/html; charset=utf-8' }, body: `<html><body><p>${message}</p></body></html>` };
}
