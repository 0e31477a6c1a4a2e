import { auth } from 'googleapis/build/src/apis/gmail/index.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { GrantReplacedError } from '../../ports/mail-provider.ts';
import { RotatedRefreshToken, type ReadNewerRefreshToken, type SaveRotatedRefreshToken } from '../rotated-refresh-token.ts';
import { isInvalidGrant } from './gmail-errors.ts';

export interface GmailOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Current refresh token, read from the client's secrets. */
  refreshToken: string;
  /** Token endpoint. Default: Google's (https://oauth2.googleapis.com/token). */
  tokenUrl?: string;
}

/**
 * Receives a rotated refresh token; the caller writes it to the secret store, never to disk, and returns
 * the newer grant an admin stored meanwhile, if any (that one wins).
 */
export type RefreshTokenRotatedHook = SaveRotatedRefreshToken;

/**
 * googleapis' OAuth2Client, except that a refresh token rotated by the token endpoint replaces the old
 * one (the stock client keeps the old token, which the server has just invalidated) and is handed to
 * the rotation hook. A hook failure fails the current call and is retried before the next one, so the
 * secret store cannot silently fall behind. With `readNewer`, the stored grant is the truth: one another
 * writer stored since (`fleet secrets set`, `fleet connect`), met before a refresh, when Google refuses
 * the one in hand (invalid_grant), or when a rotation loses to it, is never used here. Nobody has checked
 * which mailbox it opens: from then on this client refuses every call with GrantReplacedError, and the
 * agent builds a new connection, which checks the account first. Its own refreshes and rotations go on.
 */
export class RotatingOAuth2Client extends auth.OAuth2 {
  readonly #rotation: RotatedRefreshToken;
  #replaced: GrantReplacedError | null = null;

  constructor(config: GmailOAuthConfig, onRotated: RefreshTokenRotatedHook, readNewer: ReadNewerRefreshToken | null = null) {
    super({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.tokenUrl === undefined ? {} : { endpoints: { oauth2TokenUrl: config.tokenUrl } }),
    });
    this.#rotation = new RotatedRefreshToken(onRotated, 'refresh token', readNewer);
    this.setCredentials({ refresh_token: config.refreshToken });
  }

  /** True once another writer's grant was met: every call is refused (the connection must be built again). */
  get replaced(): boolean {
    return this.#replaced !== null;
  }

  protected override async refreshTokenNoCache(refreshToken?: string | null) {
    this.#refuseIfReplaced();
    // The caller copies `this.credentials.refresh_token` onto the new credentials after we return.
    if ((await this.#newerStored()) !== null) this.#replace('before a token refresh');
    const inHand = refreshToken;
    let result;
    try {
      result = await super.refreshTokenNoCache(inHand);
    } catch (error) {
      if (!isInvalidGrant(error)) throw error;
      // Refused: another writer may have stored a new grant since; if so, that one is checked before use.
      if ((await this.#newerStored()) === null) throw error;
      this.#replace('after Google refused the grant in hand', error);
    }
    if (typeof inHand === 'string') this.credentials.refresh_token = inHand;
    const rotated = result.tokens.refresh_token;
    if (typeof rotated === 'string' && rotated !== '' && rotated !== inHand) {
      this.credentials.refresh_token = rotated;
      // A grant stored meanwhile wins over our rotation, and is checked before use.
      if ((await this.#rotation.rotated(rotated)) !== null) this.#replace('when storing a rotated refresh token');
    }
    return result;
  }

  /**
   * Refused at every request once the grant was replaced: a request with a fresh enough access token
   * never reaches `refreshTokenNoCache`, and must not go out either.
   */
  protected override async getRequestMetadataAsync(url?: string | URL | null) {
    this.#refuseIfReplaced();
    return super.getRequestMetadataAsync(url);
  }

  /** Hands a rotated token that is not yet stored to the hook. Called before every API request. */
  async saveRotatedToken(): Promise<void> {
    this.#refuseIfReplaced();
    const newer = await this.#rotation.flush();
    if (newer !== null && newer !== this.credentials.refresh_token) this.#replace('when storing a rotated refresh token');
  }

  /** The grant stored since, if any (never the one in hand); a store that cannot be read now leaves the one in hand. */
  async #newerStored(): Promise<string | null> {
    try {
      const newer = await this.#rotation.newerStored();
      return newer !== null && newer !== this.credentials.refresh_token ? newer : null;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'killed') throw error;
      return null;
    }
  }

  /** Stops this client for good: the access token in hand is dropped, and this call and every later one are refused. */
  #replace(when: string, cause?: unknown): never {
    this.#replaced ??= new GrantReplacedError(`gmail: another grant was stored ${when}; the connection is built again before it is used`, { cause });
    this.credentials = {};
    throw this.#replaced;
  }

  #refuseIfReplaced(): void {
    if (this.#replaced !== null) throw this.#replaced;
  }
}

/**
 * How a Google adapter gets its OAuth client: the mailbox and the calendar share one grant and one
 * refresh token, so a rotation by one must be seen by the other (`client`); `oauth` builds a private one.
 */
export type GoogleAuth = { client: RotatingOAuth2Client } | { oauth: GmailOAuthConfig; onRefreshTokenRotated: RefreshTokenRotatedHook };

export function googleClientFor(auth: GoogleAuth): RotatingOAuth2Client {
  return 'client' in auth ? auth.client : new RotatingOAuth2Client(auth.oauth, auth.onRefreshTokenRotated);
}
