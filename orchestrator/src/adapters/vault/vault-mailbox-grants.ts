import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { GrantRevocation, MailboxGrants } from '../../ports/mailbox-grants.ts';
import { KV_MOUNT } from './client-policy.ts';
import { translateVaultError, vaultStatusOf, type VaultClient } from './vault-client.ts';

/** Google's OAuth 2.0 token revocation endpoint (RFC 7009 style). */
export const GOOGLE_REVOKE_URL = 'https://oauth2.googleapis.com/revoke';

export interface VaultMailboxGrantsOptions {
  /** node-vault client with the orchestrator's own token. */
  client: VaultClient;
  logger: Logger;
  /** Default GOOGLE_REVOKE_URL; tests point it at the Gmail emulator. */
  googleRevokeUrl?: string;
  timeoutMs?: number;
}

/**
 * MailboxGrants over the grant the consent flow stored in Vault (`fleet/<id>/gmail` or `…/outlook`, a
 * JSON value with the refresh token). Gmail: the refresh token is revoked at Google, which ends the whole
 * grant. Outlook: Microsoft identity has no client-side revocation of a consent, so nothing is called.
 */
export class VaultMailboxGrants implements MailboxGrants {
  private readonly options: VaultMailboxGrantsOptions;

  constructor(options: VaultMailboxGrantsOptions) {
    this.options = options;
  }

  async revoke(clientId: ClientId, provider: 'gmail' | 'outlook'): Promise<GrantRevocation> {
    if (provider === 'outlook') {
      const stored = (await this.refreshToken(clientId, provider)) !== null;
      return {
        provider,
        outcome: stored ? 'client-removes-consent' : 'none-stored',
        detail: stored
          ? 'Microsoft offers no API to revoke a user consent for an app: the stored grant is deleted with the secrets, and the client removes the app in Entra ID (Enterprise applications) or at https://myapps.microsoft.com'
          : 'no Outlook grant was stored',
      };
    }
    const token = await this.refreshToken(clientId, provider);
    if (token === null) return { provider, outcome: 'none-stored', detail: 'no Gmail grant was stored' };
    const url = this.options.googleRevokeUrl ?? GOOGLE_REVOKE_URL;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }).toString(),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw new FleetError('unavailable', `revoke the Gmail grant of ${clientId}: Google unreachable (${(error as Error).message})`, { cause: error, retryable: true });
    }
    const body = (await response.json().catch(() => null)) as { error?: unknown } | null;
    if (response.ok) return { provider, outcome: 'revoked', detail: `revoked at ${new URL(url).host}` };
    if (response.status === 400 && body?.error === 'invalid_token') {
      return { provider, outcome: 'already-invalid', detail: 'Google no longer knows the token (revoked or expired before)' };
    }
    throw new FleetError('unavailable', `revoke the Gmail grant of ${clientId}: Google answered ${response.status} ${String(body?.error ?? '')}`, { retryable: response.status >= 500 });
  }

  private async refreshToken(clientId: ClientId, provider: string): Promise<string | null> {
    let secret: { data?: { data?: { value?: unknown } } };
    try {
      secret = (await this.options.client.read(`${KV_MOUNT}/data/${clientId}/${provider}`)) as typeof secret;
    } catch (error) {
      if (vaultStatusOf(error) === 404) return null;
      throw translateVaultError(error, `read the ${provider} grant`);
    }
    const value = secret.data?.data?.value;
    if (typeof value !== 'string') return null;
    try {
      const token = (JSON.parse(value) as { refresh_token?: unknown }).refresh_token;
      return typeof token === 'string' && token !== '' ? token : null;
    } catch {
      this.options.logger.warn('the stored mailbox grant is not JSON', { client: clientId, provider });
      return null;
    }
  }
}
