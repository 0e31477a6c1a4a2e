import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { MailboxGrants } from '../../ports/mailbox-grants.ts';
import type { CrmConnectProvider, MailboxProvider } from '../../ports/oauth-consent.ts';
import type { OAuthGrantRevocation, OAuthGrantRevoker } from '../../ports/oauth-grant-revoker.ts';
import { vaultNames } from '../vault/client-policy.ts';
import { translateVaultError, vaultStatusOf, type VaultClient } from '../vault/vault-client.ts';

/** The stored CRM grant's secret name (its provider's: `fleet connect --provider bullhorn`). */
const CRM_GRANT: CrmConnectProvider = 'bullhorn';

export interface VaultOAuthGrantRevokerOptions {
  /** The provider side, as erasure revokes it (Google's revocation endpoint; nothing for Microsoft). */
  grants: MailboxGrants;
  /** A Vault client with the orchestrator's own token: it deletes the client's stored grant. */
  vault: VaultClient;
}

/**
 * Containment's grant revocation: the grant is revoked at the provider where its API allows it (through
 * the erasure's MailboxGrants), then every version of the stored `gmail` / `outlook` secret is deleted
 * from the client's Vault path, so no revived or restored agent can use it again; the CRM's grant too.
 * When the provider cannot be reached the stored mailbox grant is kept (its token is what a retry revokes).
 */
export class VaultOAuthGrantRevoker implements OAuthGrantRevoker {
  readonly #grants: MailboxGrants;
  readonly #vault: VaultClient;

  constructor(options: VaultOAuthGrantRevokerOptions) {
    this.#grants = options.grants;
    this.#vault = options.vault;
  }

  async revoke(clientId: ClientId, provider: MailboxProvider): Promise<OAuthGrantRevocation> {
    const revocation = await this.#grants.revoke(clientId, provider);
    const crmGrantDeleted = await this.#deleteStored(clientId, CRM_GRANT);
    if (revocation.outcome === 'none-stored') {
      return { provider, hadGrant: false, revokedAtProvider: false, storedGrantDeleted: false, followUp: '', crmGrantDeleted };
    }
    await this.#deleteStored(clientId, provider);
    return {
      provider,
      hadGrant: true,
      revokedAtProvider: revocation.outcome === 'revoked' || revocation.outcome === 'already-invalid',
      storedGrantDeleted: true,
      followUp: revocation.outcome === 'client-removes-consent' ? revocation.detail : '',
      crmGrantDeleted,
    };
  }

  /** Deletes every version of the client's secret `name`; whether one was stored. */
  async #deleteStored(clientId: ClientId, name: string): Promise<boolean> {
    const { dataPrefix, metadataPrefix } = vaultNames(clientId);
    try {
      await this.#vault.read(`${dataPrefix}${name}`);
    } catch (error) {
      if (vaultStatusOf(error) === 404) return false;
      throw translateVaultError(error, `read the stored ${name} grant`);
    }
    try {
      await this.#vault.delete(`${metadataPrefix}${name}`);
    } catch (error) {
      if (vaultStatusOf(error) !== 404) throw translateVaultError(error, `delete the stored ${name} grant`);
    }
    return true;
  }
}
