import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { GrantScopeReader, StoredGrantScopes } from '../../ports/onboarding-probes.ts';
import { KV_MOUNT } from './client-policy.ts';
import { translateVaultError, vaultStatusOf, type VaultClient } from './vault-client.ts';

/** The scopes a stored grant records: `scope` (space-separated, as OAuth token responses carry it) or `scopes`. */
export function recordedScopes(value: unknown): string[] | null {
  if (typeof value !== 'string') return null;
  let grant: { scope?: unknown; scopes?: unknown };
  try {
    grant = JSON.parse(value) as typeof grant;
  } catch {
    return null;
  }
  if (typeof grant.scope === 'string') return grant.scope.split(' ').filter((scope) => scope !== '');
  if (Array.isArray(grant.scopes) && grant.scopes.every((scope) => typeof scope === 'string'))
    return grant.scopes as string[];
  return null;
}

/** GrantScopeReader over the grant the consent flow stored in Vault, read with the orchestrator's token. */
export class VaultGrantScopes implements GrantScopeReader {
  private readonly client: VaultClient;

  constructor(client: VaultClient) {
    this.client = client;
  }

  async grantScopes(clientId: ClientId, provider: 'gmail' | 'outlook'): Promise<StoredGrantScopes | null> {
    let secret: { data?: { data?: { value?: unknown } } };
    try {
      secret = (await this.client.read(`${KV_MOUNT}/data/${clientId}/${provider}`)) as typeof secret;
    } catch (error) {
      if (vaultStatusOf(error) === 404) return null;
      throw translateVaultError(error, `read the ${provider} grant`);
    }
    const value = secret.data?.data?.value;
    return value === undefined ? null : { scopes: recordedScopes(value) };
  }
}
