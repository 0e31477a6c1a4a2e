import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { MailboxGrants } from '../ports/mailbox-grants.ts';
import type { PortalStore } from '../ports/portal-store.ts';
import type { Registry } from '../ports/registry.ts';
import type { SecretStore } from '../ports/secret-store.ts';
import type { BackupService } from './backup/backup-service.ts';
import type { EraseDependencies } from './erasure/erase-client.ts';

/** The stores outside the agent's volume and the registry that keep something of a client. */
export interface ClientStores {
  registry: Pick<Registry, 'getClient'>;
  grants: MailboxGrants;
  backups: Pick<BackupService, 'deleteAll'>;
  evidence: EraseDependencies['evidence'];
  incidents: EraseDependencies['incidents'];
  /** The egress proxy's refusal log; absent without one. */
  egressRefusals?: EraseDependencies['egressRefusals'];
  /** The client portal's store; absent without one. */
  portal?: Pick<PortalStore, 'forgetClient'> | undefined;
  secrets: Pick<SecretStore, 'removeClient'>;
  logger: Logger;
}

/**
 * A purge's deletion of what the client left outside its volume and registry row (the deprovision's `onPurge`):
 * the same stores an erasure empties. The mailbox grant is revoked at the provider first, while the secrets
 * still hold it: deleting our copy of a refresh token leaves the grant itself valid. The egress refusal log
 * only rotates by size, and the portal keeps used enrolment links until they expire, so neither would ever
 * let go of the client by itself. Each step is idempotent: a purge run again (rowless) repeats them.
 */
export async function purgeClientStores(stores: ClientStores, clientId: ClientId): Promise<void> {
  const record = await stores.registry.getClient(clientId);
  if (record !== null) {
    const grant = await stores.grants.revoke(clientId, record.provider);
    stores.logger.info('mailbox grant at purge', { client: clientId, outcome: grant.outcome });
  }
  await stores.backups.deleteAll(clientId);
  await stores.evidence.deleteClientBundles(clientId);
  await stores.incidents.forgetClientRecipients(clientId);
  const refusals = (await stores.egressRefusals?.forgetClient(clientId)) ?? 0;
  const admins = (await stores.portal?.forgetClient(clientId)) ?? 0;
  stores.logger.info('client stores purged', { client: clientId, egressRefusals: refusals, portalAdmins: admins });
  await stores.secrets.removeClient(clientId);
}
