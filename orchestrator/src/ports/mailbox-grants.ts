import type { ClientId } from '@agent-fleet/kernel/client-id';

/** What became of a client's OAuth grant at its mail provider. */
export interface GrantRevocation {
  provider: 'gmail' | 'outlook';
  /**
   * revoked: the provider confirmed; already-invalid: the provider no longer knew the token; none-stored:
   * no grant was ever stored; client-removes-consent: the provider offers no revocation API to us
   * (Microsoft), so the stored grant is deleted with the secrets and the client removes the app's consent.
   */
  outcome: 'revoked' | 'already-invalid' | 'none-stored' | 'client-removes-consent';
  detail: string;
}

/** The client's OAuth grant to its mailbox, as the erasure needs it. */
export interface MailboxGrants {
  /**
   * Revokes the stored grant at the provider where its API allows it. Call before the client's secrets are
   * deleted (the grant is read from them). Fails `unavailable` (retryable) when the provider cannot be reached.
   */
  revoke(clientId: ClientId, provider: 'gmail' | 'outlook'): Promise<GrantRevocation>;
}
