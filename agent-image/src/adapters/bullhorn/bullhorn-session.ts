import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { RotatedRefreshToken } from '../rotated-refresh-token.ts';
import { LOGIN_ANSWER_MAX_BYTES, discard, readBoundedJson } from './bullhorn-answer.ts';
import { checkedRestUrl } from './bullhorn-rest-url.ts';
import type { BullhornEndpoints } from '@agent-fleet/kernel/bullhorn-data-centers';

/** A REST session: every call goes to `restUrl` (per corporation and swimlane) with the BhRestToken. */
export interface RestSession {
  restUrl: string;
  token: string;
}

export interface BullhornSessionConfig extends BullhornEndpoints {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /**
   * Receives each rotated refresh token (Bullhorn issues a new one on every refresh and the old one
   * stops working at once): write it back through the SecretSource, never to disk.
   */
  onRefreshTokenRotated: (refreshToken: string) => Promise<void>;
  /** Session time-to-live asked for at login, minutes. Default 60. */
  sessionTtlMinutes?: number;
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number;
  now?: () => number;
  logger: Logger;
}

interface AccessToken {
  token: string;
  expiresAt: number;
}

/**
 * Bullhorn's two-layer login: the OAuth refresh-token grant gives a short-lived access token (10
 * minutes), `rest-services/login` trades it for a BhRestToken and the restUrl. Concurrent callers share
 * one login; a rotated refresh token is stored before any session built on it is handed out.
 */
export class BullhornSession {
  readonly #config: BullhornSessionConfig;
  readonly #now: () => number;
  readonly #logger: Logger;
  #refreshToken: string;
  readonly #rotation: RotatedRefreshToken;
  #access: AccessToken | null = null;
  #session: RestSession | null = null;
  #inflight: Promise<RestSession> | null = null;

  constructor(config: BullhornSessionConfig) {
    this.#config = config;
    this.#refreshToken = config.refreshToken;
    this.#rotation = new RotatedRefreshToken(config.onRefreshTokenRotated, 'bullhorn refresh token');
    this.#now = config.now ?? Date.now;
    this.#logger = config.logger;
  }

  /** The current session, logging in first when there is none. */
  async current(): Promise<RestSession> {
    await this.#rotation.flush();
    if (this.#session !== null) return this.#session;
    return this.#login(false);
  }

  /**
   * After the API refused `rejected` (401: expired or killed BhRestToken): logs in again, refreshing
   * the OAuth token when the one held is spent. A session another caller already renewed is reused.
   */
  async renew(rejected: RestSession): Promise<RestSession> {
    await this.#rotation.flush();
    if (this.#session !== null && this.#session.token !== rejected.token) return this.#session;
    if (this.#session?.token === rejected.token) this.#session = null;
    return this.#login(true);
  }

  #login(afterRejection: boolean): Promise<RestSession> {
    this.#inflight ??= this.#establish(afterRejection).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #establish(afterRejection: boolean): Promise<RestSession> {
    const held = this.#access;
    if (held !== null && held.expiresAt - 30_000 > this.#now()) {
      const session = await this.#restLogin(held.token);
      if (session !== null) return session;
      this.#logger.debug('bullhorn login refused the access token; refreshing', { op: 'crm.login', afterRejection });
    }
    const fresh = await this.#refresh();
    const session = await this.#restLogin(fresh.token);
    if (session === null) throw new ProviderAuthError('invalid_token', 'bullhorn login refused a freshly issued access token');
    return session;
  }

  /** `rest-services/login`; null when the access token is refused (expired, used up or revoked). */
  async #restLogin(accessToken: string): Promise<RestSession | null> {
    const url = new URL(this.#config.loginUrl);
    url.searchParams.set('version', '*');
    url.searchParams.set('access_token', accessToken);
    url.searchParams.set('ttl', String(this.#config.sessionTtlMinutes ?? 60));
    const response = await this.#fetch('login', url, { method: 'POST' });
    if (response.status === 401 || response.status === 400) {
      await discard(response);
      this.#access = null;
      return null;
    }
    const body = await this.#json(response, 'login');
    const token = typeof body['BhRestToken'] === 'string' ? body['BhRestToken'] : null;
    const restUrl = typeof body['restUrl'] === 'string' ? body['restUrl'] : null;
    if (token === null || restUrl === null) {
      throw new FleetError('integrity', 'bullhorn login answered without a BhRestToken and restUrl');
    }
    this.#session = { token, restUrl: checkedRestUrl(restUrl, this.#config.loginUrl) };
    this.#logger.debug('bullhorn REST session opened', { op: 'crm.login' });
    return this.#session;
  }

  /** The refresh-token grant. Bullhorn rotates the refresh token on every use. */
  async #refresh(): Promise<AccessToken> {
    const response = await this.#fetch('token', new URL('/oauth/token', this.#config.authUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // In the body, not the query string Bullhorn's examples use: secrets stay out of URLs and logs.
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: this.#refreshToken,
        client_id: this.#config.clientId,
        client_secret: this.#config.clientSecret,
      }),
    });
    if (!response.ok) {
      const answer = await readBoundedJson(response, LOGIN_ANSWER_MAX_BYTES).catch(() => 'too-large' as const);
      const body = answer === 'too-large' ? null : answer.body;
      const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
      if (code === 'invalid_grant') throw new ProviderAuthError('revoked', 'bullhorn refresh token expired, used or revoked (invalid_grant)');
      throw new ProviderAuthError('invalid_token', `bullhorn token endpoint refused the refresh (${typeof code === 'string' ? code.slice(0, 60) : response.status})`);
    }
    const body = await this.#json(response, 'token');
    const accessToken = body['access_token'];
    const expiresIn = body['expires_in'];
    if (typeof accessToken !== 'string' || typeof expiresIn !== 'number') {
      throw new FleetError('integrity', 'bullhorn token endpoint answered without an access token');
    }
    const rotated = body['refresh_token'];
    if (typeof rotated === 'string' && rotated !== this.#refreshToken) {
      this.#refreshToken = rotated;
      await this.#rotation.rotated(rotated);
    }
    this.#access = { token: accessToken, expiresAt: this.#now() + expiresIn * 1000 };
    this.#logger.info('bullhorn access token refreshed', { op: 'crm.refresh', rotated: typeof rotated === 'string' });
    return this.#access;
  }

  async #fetch(what: string, url: URL, init: RequestInit): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.#config.timeoutMs ?? 30_000) });
    } catch (error) {
      throw new FleetError('unavailable', `bullhorn ${what} endpoint unreachable`, { retryable: true, cause: error });
    }
    if (response.status === 429 || response.status >= 500) {
      await discard(response);
      throw new ProviderThrottledError(response.status, parseRetryAfter(response.headers.get('retry-after')), `bullhorn ${what} endpoint busy (${response.status})`);
    }
    return response;
  }

  async #json(response: Response, what: string): Promise<Record<string, unknown>> {
    const answer = await readBoundedJson(response, LOGIN_ANSWER_MAX_BYTES).catch(() => 'too-large' as const);
    const body = answer === 'too-large' ? null : answer.body;
    if (!response.ok || typeof body !== 'object' || body === null) {
      throw new FleetError('integrity', `bullhorn ${what} endpoint answered ${response.status} without a usable body`);
    }
    return body as Record<string, unknown>;
  }
}
