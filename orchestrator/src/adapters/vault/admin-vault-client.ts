import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OrchestratorConfig } from '../../config.ts';
import { externalVaultCaPem, type SecretBackend } from './open-secret-backend.ts';
import { createTokenFileVaultClient, createVaultClient, type VaultClient } from './vault-client.ts';

/**
 * A Vault client with the orchestrator's own token, for the adapters beside the secret store (the backup
 * key wrapper, the mailbox grants): the embedded store's root token, or the token file of an external Vault
 * (read again when Vault refuses the token it holds: a rotation places a new file).
 */
export async function adminVaultClient(config: Pick<OrchestratorConfig, 'vault'>, backend: Pick<SecretBackend, 'embedded'>): Promise<VaultClient> {
  if (backend.embedded !== null) {
    return createVaultClient({ endpoint: backend.embedded.url, token: backend.embedded.rootToken, caPem: backend.embedded.caCertificatePem });
  }
  if (config.vault.kind !== 'external') throw new FleetError('internal', 'the embedded Vault store is not running');
  const caPem = await externalVaultCaPem(config);
  return createTokenFileVaultClient({ endpoint: config.vault.address, tokenFile: config.vault.tokenFile, ...(caPem === null ? {} : { caPem }) });
}
