import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { SecretSource } from '../../ports/secret-source.ts';
import type { ControlAuth } from './control-api.ts';
import { controlTokenMatches, isSha256Hex } from './control-token.ts';

const CONTROL_SECRET = 'control';
const CONTROL_REREAD_MS = 5000;

export interface ControlTokenAuthOptions {
  /** The secret source in use; null before the introduction (every request is then `unavailable`). */
  source: () => SecretSource | null;
  /** True once the secret store revoked our token: the hash is no longer re-read. */
  revoked: () => boolean;
  logger: Logger;
}

/**
 * The control API's bearer check: the orchestrator keeps the control token's SHA-256 in the client's
 * secrets (`control`); it is read at the introduction and every rotation, and re-read (at most every
 * 5 s) while missing.
 */
export class ControlTokenAuth implements ControlAuth {
  private readonly options: ControlTokenAuthOptions;
  private hash: string | null = null;
  private lastRead = 0;

  constructor(options: ControlTokenAuthOptions) {
    this.options = options;
  }

  /** (Re)reads the hash; a rotation mints a new control token, whose hash is read with the new Vault token. */
  async refresh(): Promise<void> {
    const source = this.options.source();
    if (source === null || this.options.revoked()) return;
    this.lastRead = Date.now();
    this.hash = hashFrom(await source.readSecretData(CONTROL_SECRET));
    if (this.hash === null) this.options.logger.warn('no control token hash in the secret store yet');
  }

  async authenticate(bearer: string | null): Promise<void> {
    if (this.options.source() === null) throw new FleetError('unavailable', 'the agent is not introduced yet');
    if (this.hash === null && Date.now() - this.lastRead > CONTROL_REREAD_MS) {
      await this.refresh().catch((error: unknown) => this.options.logger.warn('reading the control token hash failed', { error }));
    }
    if (bearer === null || this.hash === null || !controlTokenMatches(bearer, this.hash)) {
      throw new FleetError('unauthorized', 'missing or wrong control token');
    }
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
