import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * A refresh token the provider rotated and that must reach the secret store before anything built on it
 * is handed out (the old one stops working at once: a lost rotation is a lost grant). Holds the newest
 * unsaved token; `flush` stores it, and a failed store is retried at the next `flush`.
 */
export class RotatedRefreshToken {
  readonly #save: (refreshToken: string) => Promise<void>;
  readonly #what: string;
  #unsaved: string | null = null;

  /** `what` names the grant in the error, e.g. "bullhorn refresh token". */
  constructor(save: (refreshToken: string) => Promise<void>, what: string) {
    this.#save = save;
    this.#what = what;
  }

  /** Remembers a rotated token and stores it at once. */
  async rotated(refreshToken: string): Promise<void> {
    this.#unsaved = refreshToken;
    await this.flush();
  }

  /** Stores the held token, if any. FleetError `unavailable` (retryable) when the store refused it. */
  async flush(): Promise<void> {
    const token = this.#unsaved;
    if (token === null) return;
    try {
      await this.#save(token);
      if (this.#unsaved === token) this.#unsaved = null;
    } catch (error) {
      throw new FleetError('unavailable', `could not store the rotated ${this.#what}`, { retryable: true, cause: error });
    }
  }
}
