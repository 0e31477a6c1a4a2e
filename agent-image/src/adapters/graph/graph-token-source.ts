import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ProviderAuthError, ProviderThrottledError, parseRetryAfter } from '../../ports/mail-provider.ts';
import { RotatedRefreshToken, type ReadNewerRefreshToken, type SaveRotatedRefreshToken } from '../rotated-refresh-token.ts';

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
  /**
   * Receives each rotated refresh token (Microsoft rotates on every refresh); write it to Vault unless an
   * admin stored a newer grant meanwhile, and return that one then.
   */
  onRefreshTokenRotated: SaveRotatedRefreshToken;
  /**
   * Reads the stored grant again (before each refresh, and when Microsoft refuses the token in hand): a
   * grant an admin stored meanwhile is used without a restart. Default: never read again.
   */
  readNewerRefreshToken?: ReadNewerRefreshToken;
  /** Refresh this long before expiry, ms. Default 5 minutes. */
  earlyRefreshMs?: number;
  now?: () => number;
}

type GraphTokens = { access_token: string; expires_in: number; refresh_token?: string };

const tokenResponse = (value: unknown): GraphTokens | null => {
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
 * The stored grant is the truth: one an admin stored since is taken before the next refresh, or at once
 * when Microsoft refuses the one in hand, and a rotation never writes over it.
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
    this.#rotation = new RotatedRefreshToken(config.onRefreshTokenRotated, 'refresh token', config.readNewerRefreshToken ?? null);
    this.#now = config.now ?? Date.now;
  }

  async getAccessToken(forceRefresh: boolean): Promise<string> {
    this.#adopt(await this.#rotation.flush());
    const early = this.#config.earlyRefreshMs ?? 300_000;
    if (!forceRefresh && this.#access !== null && this.#access.expiresAt - early > this.#now()) return this.#access.token;
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  /** Takes a grant stored by another writer: its access tokens are the only ones handed out from now on. */
  #adopt(refreshToken: string | null): void {
    if (refreshToken === null || refreshToken === this.#refreshToken) return;
    this.#refreshToken = refreshToken;
    this.#access = null;
  }

  /** The grant stored since, if any; a store that cannot be read now leaves the token in hand in use. */
  async #newerStored(): Promise<string | null> {
    try {
      return await this.#rotation.newerStored();
    } catch (error) {
      if (error instanceof FleetError && error.code === 'killed') throw error;
      return null;
    }
  }

  async #refresh(): Promise<string> {
    this.#adopt(await this.#newerStored());
    let tokens: GraphTokens;
    try {
      tokens = await this.#redeem(this.#refreshToken);
    } catch (error) {
      if (!(error instanceof ProviderAuthError)) throw error;
      // Refused: an admin may have stored a new grant since (`fleet secrets set`); try that one once.
      const refused = this.#refreshToken;
      this.#adopt(await this.#newerStored());
      if (this.#refreshToken === refused) throw error;
      tokens = await this.#redeem(this.#refreshToken);
    }
    const used = this.#refreshToken;
    this.#access = { token: tokens.access_token, expiresAt: this.#now() + tokens.expires_in * 1000 };
    if (tokens.refresh_token !== undefined && tokens.refresh_token !== used) {
      this.#refreshToken = tokens.refresh_token;
      // A grant stored meanwhile wins over the rotated one: this access token is used once, then that grant's.
      this.#adopt(await this.#rotation.rotated(tokens.refresh_token));
    }
    return tokens.access_token;
  }

  async #redeem(refreshToken: string): Promise<GraphTokens> {
    let response: Response;
    try {
      response = await fetch(this.#config.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: this.#config.clientId,
          client_secret: this.#config.clientSecret,
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
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
    return tokens;
  }
}
