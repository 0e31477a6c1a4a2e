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
 * revoked (the kill switch) without the orchestrator ever holding the tokens themselves.
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
      let live = accessors;
      if (accessors.length >= ACCESSOR_PRUNE_THRESHOLD) {
        live = [];
        for (const known of accessors) {
          const found = await this.calls.optional(
            'look up accessor',
            () => this.client.write('auth/token/lookup-accessor', { accessor: known }),
            [400, 404],
          );
          if (found) live.push(known);
        }
      }
      return [...live, accessor];
    });
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

  /** Revokes every recorded token of the client and forgets their accessors. */
  async revokeAll(clientId: ClientId): Promise<{ revoked: number }> {
    let revoked = 0;
    const { accessors } = await this.read(clientId);
    if (accessors.length === 0) return { revoked: 0 };
    for (const accessor of accessors) if (await this.revoke(accessor)) revoked++;
    await this.update(clientId, async (current) => current.filter((a) => !accessors.includes(a)));
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
