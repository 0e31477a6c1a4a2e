import { createHash, randomBytes } from 'node:crypto';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { vaultNames } from './client-policy.ts';
import type { VaultCalls } from './vault-calls.ts';
import type { VaultClient } from './vault-client.ts';

/** Issued control tokens whose hash may not have been published yet, kept at most (newest last). */
const MAX_PENDING_TOKENS = 4;

interface StoredTokens {
  token: string | null;
  pending: string[];
  version: number;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The control token of each client's agent: the token itself in the orchestrator's own mount, its SHA-256
 * in the client's path (`control`), which the agent checks bearers against. The two are written one after
 * the other, so either write can fail (or be answered by a timeout after it landed), and two orchestrators
 * can issue at once: the published hash is what decides. A new token is first staged as pending beside the
 * one in use, then its hash is published, then it replaces the one in use; the token read is the candidate
 * whose hash is published, so an interrupted issuance leaves the orchestrator holding the token the agent
 * accepts (the old one, or the new one when its hash landed), never one it refuses. Both records are
 * written with check-and-set: an issuance that raced another fails rather than overwriting it.
 */
export class ControlTokenRecord {
  private readonly client: VaultClient;
  private readonly calls: VaultCalls;

  constructor(client: VaultClient, calls: VaultCalls) {
    this.client = client;
    this.calls = calls;
  }

  /** Mints a new control token and publishes its hash; returns the token. */
  async issue(clientId: ClientId): Promise<string> {
    const names = vaultNames(clientId);
    const token = randomBytes(32).toString('base64url');
    const published = await this.readPublished(clientId);
    const stored = await this.readStored(clientId);
    const current = inUse(stored, published.sha256);
    const pending = [...stored.pending.filter((candidate) => candidate !== current), token].slice(-MAX_PENDING_TOKENS);
    const staged = await this.casWrite(clientId, 'stage control token', names.controlTokenRecord, { token: current, pending }, stored.version);
    await this.casWrite(clientId, 'publish control token hash', names.controlTokenHash, { token_sha256: sha256(token) }, published.version);
    await this.casWrite(clientId, 'record control token', names.controlTokenRecord, { token, pending: [] }, staged);
    return token;
  }

  /** The control token the agent accepts now, or null when none was issued. */
  async current(clientId: ClientId): Promise<string | null> {
    const stored = await this.readStored(clientId);
    // Only an issuance in flight (or one interrupted) leaves candidates: then the published hash decides.
    if (stored.pending.length === 0) return stored.token;
    return inUse(stored, (await this.readPublished(clientId)).sha256);
  }

  private async readStored(clientId: ClientId): Promise<StoredTokens> {
    const record = (await this.calls.optional('read control token', () => this.client.read(vaultNames(clientId).controlTokenRecord))) as {
      data?: { data?: { token?: unknown; pending?: unknown }; metadata?: { version?: unknown } };
    } | null;
    const data = record?.data?.data;
    const pending = Array.isArray(data?.pending) ? data.pending.filter((candidate): candidate is string => typeof candidate === 'string') : [];
    return { token: typeof data?.token === 'string' ? data.token : null, pending, version: versionOf(record?.data?.metadata?.version) };
  }

  private async readPublished(clientId: ClientId): Promise<{ sha256: string | null; version: number }> {
    const record = (await this.calls.optional('read control token hash', () => this.client.read(vaultNames(clientId).controlTokenHash))) as {
      data?: { data?: { token_sha256?: unknown }; metadata?: { version?: unknown } };
    } | null;
    if (record === null) return { sha256: null, version: await this.publishedVersionOfDeleted(clientId) };
    const hash = record.data?.data?.token_sha256;
    return { sha256: typeof hash === 'string' ? hash : null, version: versionOf(record.data?.metadata?.version) };
  }

  /** A deleted hash (its versions kept) reads as absent, yet a check-and-set write needs its latest version. */
  private async publishedVersionOfDeleted(clientId: ClientId): Promise<number> {
    const metadata = (await this.calls.optional('read control token hash metadata', () =>
      this.client.read(vaultNames(clientId).controlTokenHashMetadata),
    )) as { data?: { current_version?: unknown } } | null;
    return versionOf(metadata?.data?.current_version);
  }

  /** A KV v2 write that lands only on `version`; returns the version written. */
  private async casWrite(clientId: ClientId, action: string, path: string, data: Record<string, unknown>, version: number): Promise<number> {
    let response: { data?: { version?: unknown } };
    try {
      response = (await this.calls.call(action, () => this.client.write(path, { data, options: { cas: version } }))) as typeof response;
    } catch (error) {
      // Vault answers a check-and-set mismatch with 400: another issuance for the client wrote first.
      if (isFleetError(error) && error.code === 'invalid_input') {
        throw new FleetError(
          'conflict',
          `another control token was issued for ${clientId} at the same time (${action}): rotate again once that has finished`,
          { cause: error, retryable: true },
        );
      }
      throw error;
    }
    const written = response.data?.version;
    if (typeof written !== 'number') throw new FleetError('internal', `vault did not return the version it wrote (${action}) for ${clientId}`);
    return written;
  }
}

/** The stored candidate whose hash is published; the recorded token when none is (or nothing is published). */
function inUse(stored: Pick<StoredTokens, 'token' | 'pending'>, publishedSha256: string | null): string | null {
  if (publishedSha256 === null) return stored.token;
  const candidates = stored.token === null ? stored.pending : [stored.token, ...stored.pending];
  return candidates.find((candidate) => sha256(candidate) === publishedSha256) ?? stored.token;
}

function versionOf(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}
