import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { CLIENT_DELETION_ACTIONS, ERASE_ACTION, PURGE_ACTION } from '../../domain/ops-log-chain.ts';
import type { OpsLogEntry } from '../../domain/ops-log-entry.ts';
import type { AlertSilences } from '../../ports/alert-silences.ts';
import type { Registry } from '../../ports/registry.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';
import type { ErasureStep } from './deletion-certificate.ts';
import { expireAlertSilences } from './alert-silences-step.ts';

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

export interface SilencesRetryDependencies {
  /** Alertmanager; absent when none is configured (nothing is tried then). */
  alertSilences?: AlertSilences | undefined;
  registry: Pick<Registry, 'listOpsLog' | 'getClient' | 'appendOpsLog'>;
  logger: Logger;
}

/**
 * Expires the client's silences once more, for `deletion` (the erasure or purge whose expiry failed), and
 * ops-logs the attempt against it: `success` closes it, `failed` leaves it for the next attempt.
 */
export async function expireSilencesAgain(deps: SilencesRetryDependencies & { alertSilences: AlertSilences }, clientId: ClientId, deletion: OpsLogEntry, actor: string): Promise<ErasureStep> {
  const step = await expireAlertSilences(deps, clientId);
  await deps.registry.appendOpsLog({
    actor,
    action: ALERT_SILENCES_RETRY_ACTION,
    clientId,
    reason: null,
    outcome: step.outcome === 'expired' ? 'success' : 'failed',
    details: { deletionSeq: deletion.seq, deletionAction: deletion.action, deletedAt: deletion.at, step },
  });
  return step;
}

/** The guard's name for a retry while it holds a client (what a refused provisioning is told). */
const ALERT_SILENCES_RETRY_OPERATION = 'alert-silences expiry';

/**
 * The retention run's retry of the silence expiries that failed (Alertmanager down) at an erasure or a purge:
 * each is tried again, under the client operation guard and only while no registry row names the id (a client
 * provisioned again under it owns the label's silences now), and ops-logged under the actor "retention". An id
 * the guard finds busy is left for the next run, as is one whose retry threw (outcome `error`). Returns the outcome per client.
 */
export async function retrySilencesExpiries(deps: SilencesRetryDependencies & { guard: Pick<ClientOperationGuard, 'exclusive'> }): Promise<Array<{ clientId: string; outcome: string }>> {
  const alertSilences = deps.alertSilences;
  if (alertSilences === undefined) return [];
  const log = await deps.registry.listOpsLog({ actions: [PROVISION_ACTION, ERASE_ACTION, PURGE_ACTION, ALERT_SILENCES_RETRY_ACTION] });
  const deleted = new Set(log.flatMap((entry) => (entry.clientId !== null && CLIENT_DELETION_ACTIONS.has(entry.action) ? [entry.clientId] : [])));
  const results: Array<{ clientId: string; outcome: string }> = [];
  for (const id of deleted) {
    const deletion = pendingSilencesExpiry(log, id);
    if (deletion === null) continue;
    const clientId = parseClientId(id);
    try {
      const step = await deps.guard.exclusive(clientId, ALERT_SILENCES_RETRY_OPERATION, async () =>
        (await deps.registry.getClient(clientId)) === null ? expireSilencesAgain({ ...deps, alertSilences }, clientId, deletion, 'retention') : null,
      );
      if (step !== null) results.push({ clientId, outcome: step.outcome });
    } catch (error) {
      // One client's failed retry (its registry read or ops-log entry) is the next run's, and stops no other's.
      if (error instanceof FleetError && error.code === 'busy') deps.logger.info('alert silences of a deleted client left for the next run: another operation holds the id', { client: clientId });
      else {
        deps.logger.error('retrying the alert-silence expiry of a deleted client failed; the next run tries again', { client: clientId, error });
        results.push({ clientId, outcome: 'error' });
      }
    }
  }
  return results;
}
