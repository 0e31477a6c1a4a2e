import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { CONTROL_SECRET } from '@agent-fleet/kernel/fleet-owned-secrets';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { ControlAuth } from './control-api.ts';
import { controlTokenMatches, isSha256Hex } from './control-token.ts';

const CONTROL_REREAD_MS = 5000;

export interface ControlTokenAuthOptions {
  /** The secret source in use; null before the introduction (every request is then `unavailable`). */
  source: () => SecretSource | null;
  /** True once the secret store revoked our token: the hash is no longer re-read. */
  revoked: () => boolean;
  logger: Logger;
  /** Milliseconds since the epoch; default Date.now (tests step it past the re-read interval). */
  now?: () => number;
}

/**
 * The control API's bearer check: the orchestrator keeps the control token's SHA-256 in the client's
 * secrets (`control`); it is read at the introduction and every rotation, and re-read (at most every
 * 5 s) while missing or when a request brings a token it does not match: a rotation that published a new
 * hash but whose introduction never reached the agent would otherwise lock the orchestrator out (and keep
 * the replaced token valid) until the agent restarts.
 */
export class ControlTokenAuth implements ControlAuth {
  private readonly options: ControlTokenAuthOptions;
  private hash: string | null = null;
  private lastRead = 0;
  /** Reads begun so far: a read that a later one overtook does not store what it read. */
  private reads = 0;

  constructor(options: ControlTokenAuthOptions) {
    this.options = options;
  }

  /**
   * (Re)reads the hash at the introduction and a rotation, which mints a new control token whose hash is
   * read with the new Vault token. The hash held until now is dropped first: a rotation whose read fails
   * must not leave the replaced token valid (every request is refused until a read succeeds).
   */
  async refresh(): Promise<void> {
    this.hash = null;
    await this.read();
  }

  async authenticate(bearer: string | null): Promise<void> {
    if (this.options.source() === null) throw new FleetError('unavailable', 'the agent is not introduced yet');
    if (bearer !== null && this.hash !== null && controlTokenMatches(bearer, this.hash)) return;
    // Missing, or not this token's: read again, at most every 5 s whoever asks. A read that fails or finds
    // no hash keeps the one held, so a stranger's wrong tokens cannot make the orchestrator's right one fail.
    if (this.now() - this.lastRead > CONTROL_REREAD_MS) {
      await this.read().catch((error: unknown) => this.options.logger.warn('reading the control token hash failed', { error }));
    }
    if (bearer === null || this.hash === null || !controlTokenMatches(bearer, this.hash)) {
      throw new FleetError('unauthorized', 'missing or wrong control token');
    }
  }

  /** Reads the hash; only the latest of overlapping reads stores what it read. */
  private async read(): Promise<void> {
    const source = this.options.source();
    if (source === null || this.options.revoked()) return;
    const read = ++this.reads;
    this.lastRead = this.now();
    const hash = hashFrom(await source.readSecretData(CONTROL_SECRET));
    if (read !== this.reads) return;
    if (hash === null) this.options.logger.warn('no control token hash in the secret store');
    else this.hash = hash;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

function hashFrom(data: Readonly<Record<string, string>> | null): string | null {
  let hash = data?.['token_sha256'];
  // Also accepted: the hash stored as the secret's `value` (the store's generic write form).
  if (hash === undefined && typeof data?.['value'] === 'string') {
    const value = data['value'].trim();
    if (isSha256Hex(value)) hash = value;
    else {
      try {
        const inner = (JSON.parse(value) as { token_sha256?: unknown }).token_sha256;
        if (typeof inner === 'string') hash = inner;
      } catch {
        hash = undefined;
      }
    }
  }
  return hash !== undefined && isSha256Hex(hash) ? hash : null;
}
