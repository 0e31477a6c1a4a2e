import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Stores a rotated refresh token. Resolves with nothing once stored, or with the refresh token another
 * writer (an admin's `fleet secrets set`) stored meanwhile: that one wins and was not overwritten.
 */
export type SaveRotatedRefreshToken = (refreshToken: string) => Promise<string | null | void>;

/**
 * Reads the stored grant again: the refresh token stored there when another writer replaced the one in
 * hand since it was last read or written here, else null.
 */
export type ReadNewerRefreshToken = () => Promise<string | null>;

/**
 * A refresh token the provider rotated and that must reach the secret store before anything built on it
 * is handed out (the old one stops working at once: a lost rotation is a lost grant). Holds the newest
 * unsaved token; `flush` stores it, and a failed store is retried at the next `flush`. A newer grant
 * another writer stored meanwhile wins: the unsaved token is dropped, never written over it, and the
 * newer one is returned for the caller to use instead.
 */
export class RotatedRefreshToken {
  readonly #save: SaveRotatedRefreshToken;
  readonly #readNewer: ReadNewerRefreshToken | null;
  readonly #what: string;
  #unsaved: string | null = null;

  /** `what` names the grant in the error, e.g. "bullhorn refresh token". */
  constructor(save: SaveRotatedRefreshToken, what: string, readNewer: ReadNewerRefreshToken | null = null) {
    this.#save = save;
    this.#what = what;
    this.#readNewer = readNewer;
  }

  /** Remembers a rotated token and stores it at once; returns the newer stored token that won, if any. */
  async rotated(refreshToken: string): Promise<string | null> {
    this.#unsaved = refreshToken;
    return this.flush();
  }

  /**
   * Stores the held token, if any; returns the newer stored token that won over it, if any. FleetError
   * `unavailable` (retryable) when the store refused it.
   */
  async flush(): Promise<string | null> {
    const token = this.#unsaved;
    if (token === null) return null;
    let newer: string | null | void;
    try {
      newer = await this.#save(token);
    } catch (error) {
      throw new FleetError('unavailable', `could not store the rotated ${this.#what}`, { retryable: true, cause: error });
    }
    if (this.#unsaved === token) this.#unsaved = null;
    return typeof newer === 'string' ? newer : null;
  }

  /**
   * The refresh token another writer stored since this one was last read or written, or null (also when
   * there is no way to read it again). An unsaved rotated token it supersedes is dropped.
   */
  async newerStored(): Promise<string | null> {
    if (this.#readNewer === null) return null;
    const newer = await this.#readNewer();
    if (newer !== null) this.#unsaved = null;
    return newer;
  }
}
