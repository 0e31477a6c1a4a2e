import { createVaultClient, vaultStatusOf, type VaultClient, type VaultClientOptions } from '@agent-fleet/kernel/vault-client';
import { readVaultTokenFile } from './vault-credential-files.ts';

// The agent and the orchestrator speak to Vault through the same hardened node-vault setup.
export { createVaultClient, translateVaultError, vaultStatusOf } from '@agent-fleet/kernel/vault-client';
export type { VaultClient, VaultClientOptions } from '@agent-fleet/kernel/vault-client';

/**
 * A client of an external Vault with the orchestrator's token from VAULT_TOKEN_FILE, following the file:
 * see followTokenFile.
 */
export async function createTokenFileVaultClient(options: Omit<VaultClientOptions, 'token'> & { tokenFile: string }): Promise<VaultClient> {
  const { tokenFile, ...clientOptions } = options;
  const client = createVaultClient({ ...clientOptions, token: await readVaultTokenFile(tokenFile) });
  followTokenFile(client, tokenFile);
  return client;
}

/**
 * Makes `client` take the token `tokenFile` holds now when Vault refuses a call with 403: a token rotated by
 * placing a new file (a Kubernetes Secret mount changes under a running service) is picked up at its first
 * refusal, and the call is made once more with it. The call fails as refused when the file holds the same
 * token (a policy refusal, or a revoked token not yet replaced) or cannot be read. A call made with a token
 * of its caller's own (X-Vault-Token set, as an unwrap) is never retried.
 */
export function followTokenFile(client: VaultClient, tokenFile: string): void {
  const request = client.request;
  client.request = async (options) => {
    // node-vault writes the client's token into the headers it is given: each attempt gets its own copy.
    const attempt = () => request({ ...options, headers: { ...(options['headers'] as Record<string, unknown> | undefined) } });
    const used = client.token;
    try {
      return await attempt();
    } catch (error) {
      if (vaultStatusOf(error) !== 403 || hasOwnToken(options['headers']) || used === '') throw error;
      const placed = await readVaultTokenFile(tokenFile).catch(() => null);
      if (placed === null || placed === used) throw error;
      // Another call may have taken the new token already; a token placed since is left to its own refusal.
      if (client.token === used) client.token = placed;
      return attempt();
    }
  };
}

function hasOwnToken(headers: unknown): boolean {
  if (headers === null || typeof headers !== 'object') return false;
  return Object.keys(headers).some((name) => name.toLowerCase() === 'x-vault-token');
}
