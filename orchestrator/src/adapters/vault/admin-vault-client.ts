import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OrchestratorConfig } from '../../config.ts';
import { externalVaultCaPem, type SecretBackend } from './open-secret-backend.ts';
import { createVaultClient, type VaultClient } from './vault-client.ts';
import { readVaultTokenFile } from './vault-credential-files.ts';

/**
 * A Vault client with the orchestrator's own token, for the adapters beside the secret store (the backup
 * key wrapper, the mailbox grants): the embedded store's root token, or the token file of an external Vault.
 */
export async function adminVaultClient(config: Pick<OrchestratorConfig, 'vault'>, backend: Pick<SecretBackend, 'embedded'>): Promise<VaultClient> {
  if (backend.embedded !== null) {
    return createVaultClient({ endpoint: backend.embedded.url, token: backend.embedded.rootToken, caPem: backend.embedded.caCertificatePem });
  }
  if (config.vault.kind !== 'external') throw new FleetError('internal', 'the embedded Vault store is not running');
  const token = await readVaultTokenFile(config.vault.tokenFile);
  const caPem = await externalVaultCaPem(config);
  return createVaultClient({ endpoint: config.vault.address, token, ...(caPem === null ? {} : { caPem }) });
}
