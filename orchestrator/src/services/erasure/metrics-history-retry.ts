import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { CLIENT_DELETION_ACTIONS, ERASE_ACTION, PURGE_ACTION } from '../../domain/ops-log-chain.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OpsLogEntry, Registry } from '../../ports/registry.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';
import type { ErasureStep } from './deletion-certificate.ts';
import { forgetMetricsHistory, type MetricsHistoryDeletion } from './metrics-history-step.ts';

/** The ops-log record of a later attempt at a deleted client's metrics history; `success` closes it. */
export const METRICS_HISTORY_RETRY_ACTION = 'metrics-history-deletion';
const PROVISION_ACTION = 'provision';

/** A client deleted (erased or purged) whose metrics-history deletion failed and has not succeeded since. */
export interface PendingMetricsDeletion {
  clientId: string;
  /** The deletion's ops-log entry (`erase` with its certificate, or `deprovision-purge`). */
  deletion: Pick<OpsLogEntry, 'seq' | 'at' | 'action'>;
}

/** The metrics-history step a deletion recorded: in the erasure's certificate, or in the purge's details. */
function metricsStepOf(entry: OpsLogEntry): ErasureStep | undefined {
  const certificate = entry.details['certificate'];
  const recorded = entry.action === ERASE_ACTION && typeof certificate === 'object' && certificate !== null ? (certificate as { steps?: unknown }).steps : entry.details['steps'];
  if (!Array.isArray(recorded)) return undefined;
  return (recorded as unknown[]).find((step): step is ErasureStep => typeof step === 'object' && step !== null && (step as ErasureStep).what === 'metrics-history');
}

/**
 * The deletions whose metrics history is still to be deleted. A client provisioned again under the same id
 * ends its predecessor's: from then on its label names the new client, whose series are not to be deleted. Pure.
 */
export function pendingMetricsDeletions(entries: readonly OpsLogEntry[]): PendingMetricsDeletion[] {
  const pending = new Map<string, PendingMetricsDeletion>();
  for (const entry of entries) {
    if (entry.clientId === null || entry.outcome !== 'success') continue;
    if (CLIENT_DELETION_ACTIONS.has(entry.action)) {
      if (metricsStepOf(entry)?.outcome === 'failed') pending.set(entry.clientId, { clientId: entry.clientId, deletion: { seq: entry.seq, at: entry.at, action: entry.action } });
      else pending.delete(entry.clientId);
    } else if (entry.action === PROVISION_ACTION || entry.action === METRICS_HISTORY_RETRY_ACTION) {
      pending.delete(entry.clientId);
    }
  }
  return [...pending.values()];
}

export interface MetricsRetryDependencies extends MetricsHistoryDeletion {
  registry: Pick<Registry, 'listOpsLog' | 'getClient' | 'appendOpsLog'>;
  clock: Clock;
  /**
   * The client operation guard provisioning claims a client id under: each retry holds it from its
   * registry check to the end of the deletion, so no client can be made under the id in between.
   */
  guard: Pick<ClientOperationGuard, 'exclusive'>;
}

/** The guard's name for a retry while it holds a client (what a refused provisioning is told). */
const METRICS_HISTORY_RETRY_OPERATION = 'metrics-history deletion';

/**
 * Tries again the metrics-history deletions that failed (Prometheus down, its admin API off) at an erasure
 * or a purge, and ops-logs each attempt against the deletion it finishes: `success` with when, or `failed`
 * with why (tried again on the next run). A client whose id is in the registry again is left: its label is
 * no longer only the deleted client's. The check and the deletion run under the client operation guard, so
 * a provisioning under the id cannot claim it between them and lose its fresh series to the deletion; an id
 * the guard finds busy is left for the next run, as is one whose retry threw (outcome `error`). Returns the outcome per client.
 */
export async function retryMetricsDeletions(deps: MetricsRetryDependencies): Promise<Array<{ clientId: string; outcome: string }>> {
  if (deps.metricsHistory === undefined) return [];
  const log = await deps.registry.listOpsLog({ actions: [PROVISION_ACTION, ERASE_ACTION, PURGE_ACTION, METRICS_HISTORY_RETRY_ACTION] });
  const results: Array<{ clientId: string; outcome: string }> = [];
  for (const pending of pendingMetricsDeletions(log)) {
    const clientId = parseClientId(pending.clientId);
    let outcome: string | null;
    try {
      outcome = await deps.guard.exclusive(clientId, METRICS_HISTORY_RETRY_OPERATION, () => retryOne(deps, clientId, pending.deletion));
    } catch (error) {
      // One client's failed retry (its registry read or ops-log entry) is the next run's, and stops no other's.
      if (error instanceof FleetError && error.code === 'busy') deps.logger.info('metrics history of a deleted client left for the next run: another operation holds the id', { client: clientId });
      else {
        deps.logger.error('retrying the metrics-history deletion of a deleted client failed; the next run tries again', { client: clientId, error });
        results.push({ clientId, outcome: 'error' });
      }
      continue;
    }
    if (outcome !== null) results.push({ clientId, outcome });
  }
  return results;
}

/** One retry, under the guard: the deletion's outcome, or null when the id names a client again. */
async function retryOne(deps: MetricsRetryDependencies, clientId: ClientId, deletion: PendingMetricsDeletion['deletion']): Promise<string | null> {
  if ((await deps.registry.getClient(clientId)) !== null) return null;
  const step = await forgetMetricsHistory(deps, clientId);
  const succeeded = step.outcome === 'removed';
  await deps.registry.appendOpsLog({
    actor: 'retention',
    action: METRICS_HISTORY_RETRY_ACTION,
    clientId,
    reason: null,
    outcome: succeeded ? 'success' : 'failed',
    details: { deletionSeq: deletion.seq, deletionAction: deletion.action, deletedAt: deletion.at, completedAt: succeeded ? deps.clock.now().toISOString() : null, step },
  });
  return step.outcome;
}
