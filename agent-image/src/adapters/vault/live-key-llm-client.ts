import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { DraftContext, DraftReply, Classification, EmailForModel, LlmCallOptions, LlmClient, LlmResult } from '../../ports/llm-client.ts';
import { ProviderAuthError } from '../../ports/mail-provider.ts';
import type { LiveSecret } from './live-secret.ts';

export interface LiveKeyLlmClientOptions {
  /** The model's API key secret as stored (`anthropic`). */
  secret: LiveSecret;
  /** The key in `secret`'s value, or null when it holds none. */
  keyOf: (value: string) => string | null;
  /** A model client for one API key. */
  build: (apiKey: string) => LlmClient;
  /** How often the stored key is read again while calls go through, ms. Default 300 000. */
  recheckMs?: number;
  now?: () => number;
}

/**
 * The model client over the API key as stored now: a key an admin stored since (`fleet secrets set
 * <client> anthropic`) is used from the next call without a restart. The store is read again at most
 * every `recheckMs`, and at once when the API refuses the key in hand; a call refused that way is made
 * again once with the new key (the API refused it before doing anything).
 */
export class LiveKeyLlmClient implements LlmClient {
  readonly #options: LiveKeyLlmClientOptions;
  readonly #now: () => number;
  #key: string | null;
  #client: LlmClient | null;
  #checkedAt: number;

  constructor(options: LiveKeyLlmClientOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#key = options.keyOf(options.secret.value);
    this.#client = this.#key === null ? null : options.build(this.#key);
    this.#checkedAt = this.#now();
  }

  classify(email: EmailForModel, options?: LlmCallOptions): Promise<LlmResult<Classification>> {
    return this.#call((client) => client.classify(email, options));
  }

  draftReply(email: EmailForModel, styleNotes: string, context: DraftContext, options?: LlmCallOptions): Promise<LlmResult<DraftReply>> {
    return this.#call((client) => client.draftReply(email, styleNotes, context, options));
  }

  async #call<T>(run: (client: LlmClient) => Promise<T>): Promise<T> {
    await this.#recheck(false);
    const client = this.#client;
    if (client === null) throw new ProviderAuthError('invalid_token', 'no model API key is stored', { service: 'model' });
    try {
      return await run(client);
    } catch (error) {
      if (!(error instanceof ProviderAuthError && error.service === 'model')) throw error;
      if (!(await this.#recheck(true)) || this.#client === null) throw error;
      return run(this.#client);
    }
  }

  /** Reads the stored key again when due (or `now`); true when a different key is now in use. */
  async #recheck(now: boolean): Promise<boolean> {
    const at = this.#now();
    if (!now && at - this.#checkedAt < (this.#options.recheckMs ?? 300_000)) return false;
    this.#checkedAt = at;
    try {
      if (!(await this.#options.secret.reload())) return false;
    } catch (error) {
      // A store that cannot be read now leaves the key in hand in use; a revoked agent stops.
      if (error instanceof FleetError && error.code === 'killed') throw error;
      return false;
    }
    const key = this.#options.keyOf(this.#options.secret.value);
    if (key === null || key === this.#key) return false;
    this.#key = key;
    this.#client = this.#options.build(key);
    return true;
  }
}
