// A client's settings history as its agent keeps it, in memory, behind the agent control API the settings
// service calls (head, the version in force, history, one version): for tests of what the orchestrator
// records from it.
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { diffSettings } from '@agent-fleet/kernel/settings-diff';
import { crossedGuardRails } from '@agent-fleet/kernel/settings-guard-rails';
import { GENESIS_HASH, settingsConfigHash, settingsVersionHash, type SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { Clock } from '../../../orchestrator/src/ports/clock.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { ClientSettingsService } from '../../../orchestrator/src/services/settings/client-settings.ts';

/** A valid document of `clientId` from plain data (defaults filled), as the agent stores it. */
export function settingsDocument(clientId: ClientId, data: Record<string, unknown> = {}): ClientConfig {
  const parsed = parseClientConfig({ client: clientId, ...data });
  if (!parsed.ok) throw new Error(`fixture: ${parsed.issues.join('; ')}`);
  return JSON.parse(JSON.stringify(parsed.config)) as ClientConfig;
}

export class AgentSettingsHistory {
  readonly versions: SettingsVersion[] = [];

  /** A version made as the agent makes one: from the config file it was given, or through its API. */
  append(config: ClientConfig, source: 'file' | 'api', at: Date): SettingsVersion {
    const previous = this.versions.at(-1);
    const unhashed = {
      version: this.versions.length + 1,
      at: at.toISOString(),
      author: source === 'file' ? { kind: 'operator' as const, id: 'config-file' } : { kind: 'operator' as const, id: 'ops-bob' },
      reason: source === 'file' ? 'the config file placed by the orchestrator changed' : 'changed',
      config,
      changes: diffSettings(previous?.config ?? {}, config),
      guardRails: previous === undefined ? [] : crossedGuardRails(previous.config, config, at).map((rail) => rail.id),
      rollbackOf: null,
      source,
      configHash: settingsConfigHash(config),
      prevHash: previous?.hash ?? GENESIS_HASH,
    };
    const version = { ...unhashed, hash: settingsVersionHash(unhashed) };
    this.versions.push(version);
    return version;
  }

  readonly control = {
    request: async <T>(_client: unknown, _address: string, _token: string, _method: string, path: string): Promise<T> => {
      const head = this.versions.at(-1);
      if (head === undefined) throw new FleetError('unavailable', 'no settings yet');
      if (path === '/v1/settings/head') return { version: head.version, hash: head.hash } as T;
      if (path === '/v1/settings') return head as T;
      const limit = /history\?limit=(\d+)/.exec(path);
      if (limit) return { versions: [...this.versions].reverse().slice(0, Number(limit[1])).map(({ config: _config, ...rest }) => rest) } as T;
      const one = /versions\/(\d+)/.exec(path);
      const found = one ? this.versions[Number(one[1]) - 1] : undefined;
      if (found) return found as T;
      throw new FleetError('not_found', path);
    },
  } as unknown as AgentControl;

  /** The orchestrator's settings service over this history. */
  service(registry: Registry, clientId: ClientId, clock: Clock): ClientSettingsService {
    return new ClientSettingsService({ registry, agents: { reach: async () => ({ clientId, address: 'agent', token: 't' }) }, control: this.control, clock, logger: createSilentLogger() });
  }
}
