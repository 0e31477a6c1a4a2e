import { CLIENT_DELETION_ACTIONS, ERASE_ACTION } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { ErasureStep } from './deletion-certificate.ts';

/** The ops-log record of a later attempt at a deleted client's Alertmanager silences; `success` closes it. */
export const ALERT_SILENCES_RETRY_ACTION = 'alert-silences-expiry';
const PROVISION_ACTION = 'provision';

/** The Alertmanager step a deletion recorded: in the erasure's certificate, or in the purge's details. */
function silencesStepOf(entry: OpsLogEntry): ErasureStep | undefined {
  const certificate = entry.details['certificate'];
  const recorded = entry.action === ERASE_ACTION && typeof certificate === 'object' && certificate !== null ? (certificate as { steps?: unknown }).steps : entry.details['steps'];
  if (!Array.isArray(recorded)) return undefined;
  return (recorded as unknown[]).find((step): step is ErasureStep => typeof step === 'object' && step !== null && (step as ErasureStep).what === 'alertmanager');
}

/**
 * The client's last deletion (an erasure or a purge) whose expiry of its Alertmanager silences failed, when
 * no later attempt succeeded and no client was made under the id since (its label names the new client
 * then); null otherwise. `entries`: the client's ops log, oldest first. Pure.
 */
export function pendingSilencesExpiry(entries: readonly OpsLogEntry[], clientId: string): OpsLogEntry | null {
  let pending: OpsLogEntry | null = null;
  for (const entry of entries) {
    if (entry.clientId !== clientId || entry.outcome !== 'success') continue;
    if (CLIENT_DELETION_ACTIONS.has(entry.action)) pending = silencesStepOf(entry)?.outcome === 'failed' ? entry : null;
    else if (entry.action === PROVISION_ACTION || entry.action === ALERT_SILENCES_RETRY_ACTION) pending = null;
  }
  return pending;
}
