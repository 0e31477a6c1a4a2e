// The agent and the orchestrator speak to Vault through the same hardened node-vault setup.
export {
  createVaultClient,
  translateVaultError,
  vaultStatusOf,
} from '@agent-fleet/kernel/vault-client';
export type { VaultClient, VaultClientOptions } from '@agent-fleet/kernel/vault-client';
