import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { vaultNames } from './client-policy.ts';
import type { VaultCalls } from './vault-calls.ts';
import type { VaultClient } from './vault-client.ts';

/** Above this many recorded accessors, dead ones are pruned when a new token is issued. */
const ACCESSOR_PRUNE_THRESHOLD = 8;

/**
 * The accessors of each client's agent tokens, kept in a kv record so that every token issued can be
 * revoked (the kill switch) without the orchestrator ever holding the tokens themselves. Revoking leaves
 * the record as it is: a revoked accessor only costs a refused revocation at a later kill, and is pruned
 * once the record reaches ACCESSOR_PRUNE_THRESHOLD, so the kill waits on no bookkeeping write.
 */
export class AgentTokenLedger {
  private readonly client: VaultClient;
  private readonly calls: VaultCalls;
  private readonly logger: Logger;

  constructor(client: VaultClient, calls: VaultCalls, logger: Logger) {
    this.client = client;
    this.calls = calls;
    this.logger = logger;
  }

  /** Records a newly issued token's accessor (pruning dead ones once there are many). */
  async record(clientId: ClientId, accessor: string): Promise<void> {
    await this.update(clientId, async (accessors) => {
      const live = accessors.length >= ACCESSOR_PRUNE_THRESHOLD ? await this.liveOf(accessors) : accessors;
      return [...live, accessor];
    });
  }

  /** The accessors recorded for the client whose tokens are still live (a rotation's "before"). */
  async liveAccessors(clientId: ClientId): Promise<string[]> {
    return this.liveOf(await this.accessors(clientId));
  }

  private async liveOf(accessors: readonly string[]): Promise<string[]> {
    const found = await Promise.all(
      accessors.map((known) =>
        this.calls.optional('look up accessor', () => this.client.write('auth/token/lookup-accessor', { accessor: known }), [400, 404]),
      ),
    );
    return accessors.filter((_, index) => found[index] !== null);
  }

  /** Revokes one token by its accessor; false when it was already gone. */
  async revoke(accessor: string): Promise<boolean> {
    // Vault answers 400 "invalid accessor" for a token that is already gone.
    const done = await this.calls.optional(
      'revoke agent token',
      () => this.client.write('auth/token/revoke-accessor', { accessor }),
      [400, 404],
    );
    return done !== null;
  }

  /** Revokes every recorded token of the client, all at once; the count is of those that were still live. */
  async revokeAll(clientId: ClientId): Promise<{ revoked: number }> {
    return this.revokeSome(clientId, await this.accessors(clientId));
  }

  /** The accessors recorded for the client now (some may be dead already). */
  async accessors(clientId: ClientId): Promise<string[]> {
    return (await this.read(clientId)).accessors;
  }

  /**
   * Revokes the given tokens of the client, all at once (those a rotation found before it handed over a
   * new one); the count is of those that were still live.
   */
  async revokeSome(clientId: ClientId, accessors: readonly string[]): Promise<{ revoked: number }> {
    if (accessors.length === 0) return { revoked: 0 };
    const outcomes = await Promise.allSettled(accessors.map((accessor) => this.revoke(accessor)));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    // Every revocation is tried before one failure is reported: a kill retried after it has less to do.
    if (failed) throw failed.reason;
    const revoked = outcomes.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length;
    this.logger.info('agent tokens revoked', { client: clientId, revoked });
    return { revoked };
  }

  private async read(clientId: ClientId): Promise<{ accessors: string[]; version: number }> {
    const record = (await this.calls.optional('read agent token accessors', () =>
      this.client.read(vaultNames(clientId).accessorRecord),
    )) as {
      data?: { data?: { accessors?: unknown }; metadata?: { version?: number } };
    } | null;
    const accessors = record?.data?.data?.accessors;
    return {
      accessors: Array.isArray(accessors) ? accessors.filter((a): a is string => typeof a === 'string') : [],
      version: record?.data?.metadata?.version ?? 0,
    };
  }

  private async write(clientId: ClientId, accessors: string[], cas: number): Promise<void> {
    await this.calls.call('record agent token accessors', () =>
      this.client.write(vaultNames(clientId).accessorRecord, { data: { accessors }, options: { cas } }),
    );
  }

  /** Read-modify-write with check-and-set, retried when another writer got there first. */
  private async update(clientId: ClientId, change: (accessors: string[]) => Promise<string[]>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const { accessors, version } = await this.read(clientId);
      try {
        await this.write(clientId, await change(accessors), version);
        return;
      } catch (error) {
        if (attempt >= 4 || !(error instanceof FleetError) || error.code !== 'invalid_input') throw error;
      }
    }
  }
}
