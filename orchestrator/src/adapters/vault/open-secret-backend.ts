import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { NetworkInfo } from '../../ports/container-runtime.ts';
import type { AgentTlsVault } from '../../ports/agent-tls.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import { startEmbeddedVault, type EmbeddedVault } from '../embedded-vault/start-embedded-vault.ts';
import type { ServerCertificateSource } from '../embedded-vault/tls-listener.ts';
import { VaultAgentTls } from './vault-agent-tls.ts';
import { readVaultCaFile } from './vault-credential-files.ts';
import { createTokenFileVaultClient, createVaultClient } from './vault-client.ts';
import { VaultSecretStore } from './vault-secret-store.ts';

export interface SecretBackend {
  store: SecretStore;
  /** Makes Vault reachable from a client's network; returns the address its agent uses. */
  vaultAddressForNetwork(clientId: ClientId, network: Pick<NetworkInfo, 'gateway'>): Promise<string>;
  /** The embedded store, when that is the backend (tests read its request log). */
  embedded: EmbeddedVault | null;
  /** Where agents' TLS bundles are kept and handed over from. */
  agentTls: AgentTlsVault;
  /** PEM of the CA agents verify Vault's TLS against (the fleet CA, or VAULT_CACERT); null: Node's root store. */
  vaultCaPem: string | null;
  close(): Promise<void>;
}

/** The CA of a real Vault's TLS (VAULT_CACERT), or null when it has a publicly trusted certificate. */
export async function externalVaultCaPem(config: Pick<OrchestratorConfig, 'vault'>): Promise<string | null> {
  const vault = config.vault;
  if (vault.kind !== 'external' || vault.caCertFile === undefined) return null;
  return readVaultCaFile(vault.caCertFile);
}

/**
 * HashiCorp Vault/OpenBao when configured (its own TLS, VAULT_CACERT); otherwise the embedded Vault-API
 * store, served over TLS 1.3 with fleet-CA certificates on loopback and on each client network's gateway
 * only (never on every interface).
 */
export async function openSecretBackend(
  config: Pick<OrchestratorConfig, 'vault'>,
  logger: Logger,
  certificates: ServerCertificateSource,
): Promise<SecretBackend> {
  const vault = config.vault;
  if (vault.kind === 'external') {
    const caPem = await externalVaultCaPem(config);
    // Follows the token file: a token rotated by placing a new file is taken at its first refusal.
    const client = await createTokenFileVaultClient({ endpoint: vault.address, tokenFile: vault.tokenFile, ...(caPem === null ? {} : { caPem }) });
    const store = new VaultSecretStore({ client, logger });
    const agentTls = new VaultAgentTls({ client, logger });
    return { store, embedded: null, agentTls, vaultCaPem: caPem, vaultAddressForNetwork: async () => vault.agentAddress, close: async () => undefined };
  }

  const embedded = await startEmbeddedVault({ dataDir: vault.dataDir, listen: [{ host: '127.0.0.1', port: vault.port }], logger, certificates });
  const port = Number(new URL(embedded.url).port);
  const client = createVaultClient({ endpoint: embedded.url, token: embedded.rootToken, caPem: embedded.caCertificatePem });
  const store = new VaultSecretStore({ client, logger });
  const listening = new Map<string, Promise<string>>();
  return {
    store,
    embedded,
    agentTls: new VaultAgentTls({ client, logger }),
    vaultCaPem: embedded.caCertificatePem,
    vaultAddressForNetwork(_clientId, network) {
      let address = listening.get(network.gateway);
      if (!address) {
        address = embedded.addListener(network.gateway, port);
        listening.set(network.gateway, address);
        address.catch(() => listening.delete(network.gateway));
      }
      return address;
    },
    close: () => embedded.close(),
  };
}
