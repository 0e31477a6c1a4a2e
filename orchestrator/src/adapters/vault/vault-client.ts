// The agent and the orchestrator speak to Vault through the same hardened node-vault setup.
export {
  createVaultClient,
  translateVaultError,
  vaultStatusOf,
} from '@agent-fleet/agent/adapters/vault/vault-client.ts';
export type { VaultClient, VaultClientOptions } from '@agent-fleet/agent/adapters/vault/vault-client.ts';
