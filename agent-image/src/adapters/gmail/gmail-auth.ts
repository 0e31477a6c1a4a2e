import { auth } from 'googleapis/build/src/apis/gmail/index.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
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
 * secret store cannot silently fall behind. With `readNewer`, the stored grant is the truth: one an admin
 * stored since (`fleet secrets set`) is taken before the next refresh, or at once when Google refuses the
 * one in hand (invalid_grant), and a rotation never writes over it.
 */
export class RotatingOAuth2Client extends auth.OAuth2 {
  readonly #rotation: RotatedRefreshToken;

  constructor(config: GmailOAuthConfig, onRotated: RefreshTokenRotatedHook, readNewer: ReadNewerRefreshToken | null = null) {
    super({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.tokenUrl === undefined ? {} : { endpoints: { oauth2TokenUrl: config.tokenUrl } }),
    });
    this.#rotation = new RotatedRefreshToken(onRotated, 'refresh token', readNewer);
    this.setCredentials({ refresh_token: config.refreshToken });
  }

  protected override async refreshTokenNoCache(refreshToken?: string | null) {
    // The caller copies `this.credentials.refresh_token` onto the new credentials after we return.
    let inHand = (await this.#newerStored()) ?? refreshToken;
    let result;
    try {
      result = await super.refreshTokenNoCache(inHand);
    } catch (error) {
      if (!isInvalidGrant(error)) throw error;
      // Refused: an admin may have stored a new grant since (`fleet secrets set`); try that one once.
      const stored = await this.#newerStored();
      if (stored === null || stored === inHand) throw error;
      inHand = stored;
      result = await super.refreshTokenNoCache(inHand);
    }
    if (typeof inHand === 'string') this.credentials.refresh_token = inHand;
    const rotated = result.tokens.refresh_token;
    if (typeof rotated === 'string' && rotated !== '' && rotated !== inHand) {
      this.credentials.refresh_token = rotated;
      const newer = await this.#rotation.rotated(rotated);
      if (newer !== null) {
        // A grant stored meanwhile wins: this access token serves the request under way, then that grant's.
        this.credentials.refresh_token = newer;
        result.tokens.expiry_date = 1;
      }
    }
    return result;
  }

  /** Hands a rotated token that is not yet stored to the hook. Called before every API request. */
  async saveRotatedToken(): Promise<void> {
    const newer = await this.#rotation.flush();
    if (newer !== null && newer !== this.credentials.refresh_token) this.setCredentials({ refresh_token: newer });
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
}

/**
 * How a Google adapter gets its OAuth client: the mailbox and the calendar share one grant and one
 * refresh token, so a rotation by one must be seen by the other (`client`); `oauth` builds a private one.
 */
export type GoogleAuth = { client: RotatingOAuth2Client } | { oauth: GmailOAuthConfig; onRefreshTokenRotated: RefreshTokenRotatedHook };

export function googleClientFor(auth: GoogleAuth): RotatingOAuth2Client {
  return 'client' in auth ? auth.client : new RotatingOAuth2Client(auth.oauth, auth.onRefreshTokenRotated);
}
