import { AGENT_TLS_SECRET, type AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_CONFIG_KEY_FIELD } from '@agent-fleet/kernel/sealed-agent-config';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AgentTlsVault } from '../../ports/agent-tls.ts';
import { KV_MOUNT } from './client-policy.ts';
import { vaultCalls, type VaultCalls } from './vault-calls.ts';
import type { VaultClient } from './vault-client.ts';

/** `fleet/data/<id>/tls/agent`: inside the client's own path, so the client's policy (and no other) reads it. */
export function agentTlsPath(clientId: ClientId): string {
  return `${KV_MOUNT}/data/${clientId}/${AGENT_TLS_SECRET}`;
}

/**
 * The agents' TLS bundles in Vault KV v2, written with the orchestrator's token. Field names as the
 * agent reads them (agent-image/src/adapters/vault/tls-bundle-source.ts).
 */
export class VaultAgentTls implements AgentTlsVault {
  private readonly client: VaultClient;
  private readonly calls: VaultCalls;

  constructor(options: { client: VaultClient; logger: Logger }) {
    this.client = options.client;
    this.calls = vaultCalls(options.logger.child({ component: 'vault-agent-tls' }));
  }

  async store(clientId: ClientId, bundle: AgentTlsBundle & { configKey?: string }): Promise<void> {
    await this.calls.call('store the agent TLS bundle', () =>
      this.client.write(agentTlsPath(clientId), {
        data: {
          certificate: bundle.certificatePem,
          private_key: bundle.privateKeyPem,
          ca_certificate: bundle.caCertificatePem,
          ...(bundle.configKey === undefined ? {} : { [AGENT_CONFIG_KEY_FIELD]: bundle.configKey }),
        },
      }),
    );
  }

  async wrapRead(clientId: ClientId, ttlSeconds: number): Promise<{ wrappingToken: string; creationPath: string }> {
    const path = agentTlsPath(clientId);
    const response = (await this.calls.call('wrap the agent TLS bundle', () =>
      this.client.read(path, { headers: { 'X-Vault-Wrap-TTL': `${ttlSeconds}s` } }),
    )) as { wrap_info?: { token?: unknown; creation_path?: unknown } | null };
    const wrap = response.wrap_info;
    if (typeof wrap?.token !== 'string' || wrap.creation_path !== path) {
      throw new FleetError('internal', `vault did not return a response-wrapped read of ${path}`);
    }
    return { wrappingToken: wrap.token, creationPath: path };
  }
}
