import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { MailboxProvider } from './oauth-consent.ts';

/** What revoking a client's stored mailbox grant did. */
export interface OAuthGrantRevocation {
  provider: MailboxProvider;
  /** A grant was stored for the client (false: there was nothing to revoke). */
  hadGrant: boolean;
  /** The provider confirmed the grant is dead (Google's revocation endpoint); false where no API exists. */
  revokedAtProvider: boolean;
  /** The stored grant (all its versions) is gone from the client's secrets. */
  storedGrantDeleted: boolean;
  /** What a human still has to do (Microsoft: remove the app's consent in the tenant); empty when nothing. */
  followUp: string;
  /**
   * A CRM grant was stored and is gone from the client's secrets too (Bullhorn offers no revocation API:
   * deleted at rest, no revived or restored agent reaches the CRM with it).
   */
  crmGrantDeleted: boolean;
}

/** Ends the fleet's access to a client's mailbox (at the provider where its API allows it, and at rest) and to its CRM (at rest). */
export interface OAuthGrantRevoker {
  /**
   * Revokes the client's `provider` grant and deletes the stored grant. Idempotent: a second call finds no
   * grant and says so. FleetError `unavailable` when the provider cannot be reached (nothing is deleted
   * then, so the call can be repeated).
   */
  revoke(clientId: ClientId, provider: MailboxProvider): Promise<OAuthGrantRevocation>;
}
