import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { RotatedRefreshToken } from '../rotated-refresh-token.ts';

/** Where the Graph adapter gets bearer tokens. */
export interface GraphTokenSource {
  /** A valid access token; `forceRefresh` after the API answered 401. */
  getAccessToken(forceRefresh: boolean): Promise<string>;
}

export interface RefreshTokenSourceConfig {
  /** Token endpoint, e.g. https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  scopes: string[];
  /** Receives each rotated refresh token (Microsoft rotates on every refresh); write it to Vault. */
  onRefreshTokenRotated: (refreshToken: string) => Promise<void>;
  /** Refresh this long before expiry, ms. Default 5 minutes. */
  earlyRefreshMs?: number;
  now?: () => number;
}

const tokenResponse = (value: unknown): { access_token: string; expires_in: number; refresh_token?: string } | null => {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v['access_token'] !== 'string' || typeof v['expires_in'] !== 'number') return null;
  return {
    access_token: v['access_token'],
    expires_in: v['expires_in'],
    ...(typeof v['refresh_token'] === 'string' ? { refresh_token: v['refresh_token'] } : {}),
  };
};

/**
 * The OAuth 2.0 refresh-token grant against the Microsoft identity platform. (MSAL keeps refresh tokens
 * inside its own cache; we need the rotated token in hand to write it to Vault.) Concurrent callers share
 * one refresh; a rotated token that could not be stored is stored before the next token is handed out.
 */
export class RefreshTokenGraphTokenSource implements GraphTokenSource {
  readonly #config: RefreshTokenSourceConfig;
  readonly #now: () => number;
  #refreshToken: string;
  readonly #rotation: RotatedRefreshToken;
  #access: { token: string; expiresAt: number } | null = null;
  #inflight: Promise<string> | null = null;

  constructor(config: RefreshTokenSourceConfig) {
    this.#config = config;
    this.#refreshToken = config.refreshToken;
    this.#rotation = new RotatedRefreshToken(config.onRefreshTokenRotated, 'refresh token');
    this.#now = config.now ?? Date.now;
  }

  async getAccessToken(forceRefresh: boolean): Promise<string> {
    await this.#rotation.flush();
    const early = this.#config.earlyRefreshMs ?? 300_000;
    if (!forceRefresh && this.#access !== null && this.#access.expiresAt - early > this.#now()) return this.#access.token;
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refresh(): Promise<string> {
    let response: Response;
    try {
      response = await fetch(this.#config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: this.#config.clientId,
          client_secret: this.#config.clientSecret,
          grant_type: 'refresh_token',
          refresh_token: this.#refreshToken,
          scope: this.#config.scopes.join(' '),
        }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new FleetError('unavailable', 'graph token endpoint unreachable', { retryable: true, cause: error });
    }
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const { error: code, suberror } = typeof body === 'object' && body !== null ? (body as { error?: unknown; suberror?: unknown }) : {};
      // A scope asked for that the grant was never consented to (permissions widened since the connect)
      // fails every refresh, like a revoked grant, but only a new consent mends it: say so.
      if (code === 'invalid_grant' && suberror === 'consent_required') {
        throw new ProviderAuthError('revoked', 'graph refresh refused: the requested scopes were not all consented (consent_required); reconnect the mailbox');
      }
      if (code === 'invalid_grant') throw new ProviderAuthError('revoked', 'graph refresh token expired or revoked (invalid_grant)');
      if (response.status === 429 || response.status >= 500) {
        throw new ProviderThrottledError(response.status, parseRetryAfter(response.headers.get('retry-after')), 'graph token endpoint busy');
      }
      throw new ProviderAuthError('invalid_token', `graph token endpoint refused the refresh (${String(code ?? response.status)})`);
    }
    const tokens = tokenResponse(body);
    if (tokens === null) throw new FleetError('integrity', 'graph token endpoint answered without an access token');
    this.#access = { token: tokens.access_token, expiresAt: this.#now() + tokens.expires_in * 1000 };
    if (tokens.refresh_token !== undefined && tokens.refresh_token !== this.#refreshToken) {
      this.#refreshToken = tokens.refresh_token;
      await this.#rotation.rotated(tokens.refresh_token);
    }
    return tokens.access_token;
  }
}
