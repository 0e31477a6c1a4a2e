import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { SettingsVersion } from '@agent-fleet/kernel/settings-version';
import type { SettingsChangeOutcome, SettingsView } from '../services/settings/client-settings.ts';
import type { VersionSummary } from '../services/settings/settings-ops-log.ts';
import type { OrchestratorClient } from './orchestrator-client.ts';

const settingsPath = (clientId: ClientId, suffix = '') => `/v1/clients/${clientId}/settings${suffix}`;

export interface SettingsSetRequest {
  yaml: string;
  baseVersion: number;
  reason: string;
  confirm: readonly string[];
}

export interface SettingsRollbackRequest {
  toVersion: number;
  baseVersion?: number | undefined;
  reason: string;
  confirm: readonly string[];
}

/** `/v1/clients/:id/settings` as typed calls; writes carry `actor`, the operator identity for the ops log. */
export class SettingsApiClient {
  readonly #transport: OrchestratorClient;
  readonly #actor: string;

  constructor(transport: OrchestratorClient, actor: string) {
    this.#transport = transport;
    this.#actor = actor;
  }

  show(clientId: ClientId): Promise<SettingsView> {
    return this.#transport.request('GET', settingsPath(clientId));
  }

  async history(clientId: ClientId, limit: number): Promise<VersionSummary[]> {
    return (await this.#transport.request<{ versions: VersionSummary[] }>('GET', settingsPath(clientId, `/history?limit=${limit}`))).versions;
  }

  version(clientId: ClientId, version: number): Promise<SettingsVersion> {
    return this.#transport.request('GET', settingsPath(clientId, `/versions/${version}`));
  }

  set(clientId: ClientId, request: SettingsSetRequest): Promise<SettingsChangeOutcome> {
    return this.#transport.request('PUT', settingsPath(clientId), { ...request, confirm: [...request.confirm], actor: this.#actor });
  }

  rollback(clientId: ClientId, request: SettingsRollbackRequest): Promise<SettingsChangeOutcome> {
    const { baseVersion, ...rest } = request;
    return this.#transport.request('POST', settingsPath(clientId, '/rollback'), {
      ...rest,
      ...(baseVersion === undefined ? {} : { baseVersion }),
      confirm: [...request.confirm],
      actor: this.#actor,
    });
  }

  /** Records the scopes a `fleet connect` consent granted (the settings compare them with what they need). */
  async recordGrant(clientId: ClientId, grant: { provider: 'gmail' | 'outlook'; scopes: readonly string[]; secretVersion: number }): Promise<void> {
    await this.#transport.request('POST', `/v1/clients/${clientId}/mailbox-grants`, { ...grant, scopes: [...grant.scopes], actor: this.#actor });
  }
}
