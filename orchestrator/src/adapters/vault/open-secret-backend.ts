import { readFile } from 'node:fs/promises';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { NetworkInfo } from '../../ports/container-runtime.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import { startEmbeddedVault, type EmbeddedVault } from '../embedded-vault/start-embedded-vault.ts';
import { createVaultClient } from './vault-client.ts';
import { VaultSecretStore } from './vault-secret-store.ts';

export interface SecretBackend {
  store: SecretStore;
  /** Makes Vault reachable from a client's network; returns the address its agent uses. */
  vaultAddressForNetwork(clientId: ClientId, network: Pick<NetworkInfo, 'gateway'>): Promise<string>;
  /** The embedded store, when that is the backend (tests read its request log). */
  embedded: EmbeddedVault | null;
  close(): Promise<void>;
}

/**
 * HashiCorp Vault/OpenBao when configured; otherwise the embedded Vault-API store, served on loopback and
 * on each client network's gateway only (never on every interface).
 */
export async function openSecretBackend(config: Pick<OrchestratorConfig, 'vault'>, logger: Logger): Promise<SecretBackend> {
  const vault = config.vault;
  if (vault.kind === 'external') {
    let token: string;
    try {
      token = (await readFile(vault.tokenFile, 'utf8')).trim();
    } catch (error) {
      throw new FleetError('unavailable', `cannot read the Vault token file ${vault.tokenFile}`, { cause: error });
    }
    const store = new VaultSecretStore({ client: createVaultClient({ endpoint: vault.address, token }), logger });
    return { store, embedded: null, vaultAddressForNetwork: async () => vault.agentAddress, close: async () => undefined };
  }

  const embedded = await startEmbeddedVault({ dataDir: vault.dataDir, listen: [{ host: '127.0.0.1', port: vault.port }], logger });
  const port = Number(new URL(embedded.url).port);
  const store = new VaultSecretStore({ client: createVaultClient({ endpoint: embedded.url, token: embedded.rootToken }), logger });
  const listening = new Map<string, Promise<string>>();
  return {
    store,
    embedded,
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
