import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { createVaultClient } from '../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultSecretStore } from '../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import { describeSecretStoreContract } from './secret-store.contract.ts';

const vaultAddr = process.env['VAULT_ADDR'];
const vaultToken = process.env['VAULT_TOKEN'];

if (vaultAddr && vaultToken) {
  describeSecretStoreContract(`real Vault at ${vaultAddr}`, async () => {
    const adminClient = createVaultClient({ endpoint: vaultAddr, token: vaultToken });
    const wrapTtlSeconds = 2;
    return {
      vaultAddr,
      adminClient,
      // A short wrap TTL so that the expiry test waits seconds, not a minute.
      store: new VaultSecretStore({ client: adminClient, logger: createSilentLogger(), wrapTtlSeconds }),
      elapse: (seconds) => sleep(seconds * 1000),
      close: async () => undefined,
    };
  });
} else {
  // Shown as skipped, with how to run it, rather than silently registering nothing.
  test('SecretStore contract: real Vault', {
    skip: 'no VAULT_ADDR/VAULT_TOKEN: start `vault server -dev`, then VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=<root token> npx node --test tests/contract/secret-store-vault.test.ts',
  });
}
