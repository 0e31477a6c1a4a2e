import { auth } from 'googleapis/build/src/apis/gmail/index.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

export interface GmailOAuthConfig {
  clientId: string;
  clientSecret: string;
  /** Current refresh token, read from the client's secrets. */
  refreshToken: string;
  /** Token endpoint. Default: Google's (https://oauth2.googleapis.com/token). */
  tokenUrl?: string;
}

/** Receives a rotated refresh token; the caller writes it to the secret store, never to disk. */
export type RefreshTokenRotatedHook = (refreshToken: string) => Promise<void>;

/**
 * googleapis' OAuth2Client, except that a refresh token rotated by the token endpoint replaces the old
 * one (the stock client keeps the old token, which the server has just invalidated) and is handed to
 * the rotation hook. A hook failure fails the current call and is retried before the next one, so the
 * secret store cannot silently fall behind.
 */
export class RotatingOAuth2Client extends auth.OAuth2 {
  readonly #onRotated: RefreshTokenRotatedHook;
  #unsaved: string | null = null;

  constructor(config: GmailOAuthConfig, onRotated: RefreshTokenRotatedHook) {
    super({
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      ...(config.tokenUrl === undefined ? {} : { endpoints: { oauth2TokenUrl: config.tokenUrl } }),
    });
    this.#onRotated = onRotated;
    this.setCredentials({ refresh_token: config.refreshToken });
  }

  protected override async refreshTokenNoCache(refreshToken?: string | null) {
    const result = await super.refreshTokenNoCache(refreshToken);
    const rotated = result.tokens.refresh_token;
    if (typeof rotated === 'string' && rotated !== '' && rotated !== refreshToken) {
      // The caller copies `this.credentials.refresh_token` onto the new credentials after we return.
      this.credentials.refresh_token = rotated;
      this.#unsaved = rotated;
      await this.saveRotatedToken();
    }
    return result;
  }

  /** Hands a rotated token that is not yet stored to the hook. Called before every API request. */
  async saveRotatedToken(): Promise<void> {
    const token = this.#unsaved;
    if (token === null) return;
    try {
      await this.#onRotated(token);
      if (this.#unsaved === token) this.#unsaved = null;
    } catch (error) {
      throw new FleetError('unavailable', 'could not store the rotated refresh token', { retryable: true, cause: error });
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
