import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Registry } from '../ports/registry.ts';

const NOBODY: ReadonlySet<string> = new Set();

/**
 * Who speaks for a client now: the admins in its config as last applied (lowercase, as the config schema
 * keeps them), and nobody for a client that is gone. A closed client keeps its admins through its retention
 * period (they approve the support that exports its data). Asked on every read of an active support grant,
 * so a config is parsed once per version, not per read.
 */
export class SupportClientAdmins {
  private readonly registry: Pick<Registry, 'getClient'>;
  /** The last parsed config of each client: one entry per client in the registry, replaced when it changes. */
  private readonly parsed = new Map<ClientId, { configYaml: string; admins: ReadonlySet<string> }>();

  constructor(registry: Pick<Registry, 'getClient'>) {
    this.registry = registry;
  }

  async of(clientId: ClientId): Promise<ReadonlySet<string>> {
    const record = await this.registry.getClient(clientId);
    if (!record) return NOBODY;
    const known = this.parsed.get(clientId);
    if (known !== undefined && known.configYaml === record.configYaml) return known.admins;
    const admins = new Set(parseClientConfigYaml(record.configYaml, `the config of ${clientId}`).admins.map((admin) => admin.toLowerCase()));
    this.parsed.set(clientId, { configYaml: record.configYaml, admins });
    return admins;
  }
}
