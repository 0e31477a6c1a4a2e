/**
 * Lifecycle of a client in the registry:
 * - provisioning: a provisioning operation owns the client (heartbeat in the operation row)
 * - active: the agent runs and is registered for scraping
 * - failed: the last provisioning failed and was rolled back; provisioning again is allowed
 * - killed: the kill switch is engaged; only `revive` leaves this state
 * - deprovisioning: removal in progress
 * - deprovisioned: container and network removed; the volume is kept unless purged
 */
export type ClientStatus = 'provisioning' | 'active' | 'failed' | 'killed' | 'deprovisioning' | 'deprovisioned';

export const CLIENT_STATUSES: readonly ClientStatus[] = [
  'provisioning',
  'active',
  'failed',
  'killed',
  'deprovisioning',
  'deprovisioned',
];

/** Being closed or closed: the agent never runs again for it, and nobody acts for the client any more. */
export function isClosedStatus(status: ClientStatus): boolean {
  return status === 'deprovisioning' || status === 'deprovisioned';
}
