import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { KV_MOUNT, SYSTEM_MOUNT, TRANSIT_MOUNT } from './client-policy.ts';
import type { VaultCalls } from './vault-calls.ts';
import type { VaultClient } from './vault-client.ts';

const WANTED_MOUNTS: { path: string; type: 'kv' | 'transit' }[] = [
  { path: KV_MOUNT, type: 'kv' },
  { path: SYSTEM_MOUNT, type: 'kv' },
  { path: TRANSIT_MOUNT, type: 'transit' },
];

/** The fleet's Vault mounts (kv v2 for secrets and system records, transit for data keys). */
export class VaultMounts {
  private readonly client: VaultClient;
  private readonly calls: VaultCalls;
  private readonly logger: Logger;
  private mounts: Promise<void> | null = null;

  constructor(client: VaultClient, calls: VaultCalls, logger: Logger) {
    this.client = client;
    this.calls = calls;
    this.logger = logger;
  }

  /** Enables the mounts we need if they are missing (idempotent; checks types of existing ones). */
  ensure(): Promise<void> {
    this.mounts ??= this.enableMissing().catch((error: unknown) => {
      this.mounts = null;
      throw error;
    });
    return this.mounts;
  }

  private async enableMissing(): Promise<void> {
    const listing = (await this.calls.call('list mounts', () => this.client.read('sys/mounts'))) as {
      data?: Record<string, unknown>;
    };
    const mounts = (listing.data ?? listing) as Record<
      string,
      { type?: string; options?: { version?: string } | null } | undefined
    >;
    for (const { path, type } of WANTED_MOUNTS) {
      const existing = mounts[`${path}/`];
      if (existing) {
        const version = existing.options?.version;
        if (existing.type !== type || (type === 'kv' && version !== '2')) {
          throw new FleetError(
            'conflict',
            `vault mount ${path}/ exists as ${existing.type}${version ? ` v${version}` : ''}; expected ${type === 'kv' ? 'kv v2' : type}`,
          );
        }
        continue;
      }
      const body =
        type === 'kv'
          ? { type: 'kv', options: { version: '2' }, description: 'agent-fleet' }
          : { type: 'transit', description: 'agent-fleet' };
      await this.calls.call(`enable ${path}/`, () => this.client.write(`sys/mounts/${path}`, body));
      this.logger.info('vault mount enabled', { mount: path, type });
    }
  }
}
