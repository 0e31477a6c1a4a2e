import type { Logger } from '@agent-fleet/kernel/logger';
import { CLIENT_DELETION_ACTIONS, PURGE_ACTION, ERASE_ACTION } from '../domain/ops-log-chain.ts';
import { isClosedStatus } from '../domain/client-status.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClientRecord, OpsLogEntry, Registry } from '../ports/registry.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import type { DeprovisionClientService } from './deprovision-client.ts';
import type { MetricsHistoryDeletion } from './erasure/metrics-history-step.ts';
import { retryMetricsDeletions } from './erasure/metrics-history-retry.ts';

const DAY_MS = 86_400_000;

/** The ops-log actions that open and close a client's life: what the closure date is read from. */
const PROVISION_ACTION = 'provision';
const CLOSURE_ACTION = 'deprovision';

export interface RetentionDependencies {
  registry: Registry;
  deprovision: DeprovisionClientService;
  clock: Clock;
  logger: Logger;
  /** Days a closed client's data (its volume: audit log, state) is kept before it is deleted. */
  retentionDays: number;
  /**
   * Prometheus's stored series (absent: none configured) and the orchestrator's own per-client series: a
   * deletion of them that failed at an erasure or a purge is tried again on every run until it succeeds.
   */
  metricsHistory?: MetricsHistoryDeletion['metricsHistory'];
  ownMetrics?: MetricsHistoryDeletion['ownMetrics'];
  /**
   * The client operation guard provisioning claims ids under (the orchestrator's one): a deletion tried
   * again runs under it, so it cannot race a provisioning under the same id and take the new client's series.
   */
  guard: ClientOperationGuard;
}

/**
 * When each client was closed: the first closure (`deprovision`) since it was last provisioned or deleted.
 * Closing an already closed client again (or anything else that touches its row) does not move the date,
 * so the retention period cannot be extended by accident. Pure.
 */
export function closureDates(entries: readonly OpsLogEntry[]): Map<string, string> {
  const closed = new Map<string, string>();
  for (const entry of entries) {
    if (entry.clientId === null || entry.outcome !== 'success') continue;
    if (entry.action === PROVISION_ACTION || CLIENT_DELETION_ACTIONS.has(entry.action)) closed.delete(entry.clientId);
    else if (entry.action === CLOSURE_ACTION && !closed.has(entry.clientId)) closed.set(entry.clientId, entry.at);
  }
  return closed;
}

/** When the client's retention period started: its closure in the ops log, else the last change of its row. */
function closedAt(client: ClientRecord, closures: ReadonlyMap<string, string>): string {
  const logged = closures.get(client.id);
  if (logged === undefined) return client.updatedAt;
  return Date.parse(logged) <= Date.parse(client.updatedAt) ? logged : client.updatedAt;
}

/**
 * Log retention after account closure: a deprovisioned client's volume (audit log included) and its
 * secrets are kept for the retention period, so the client can still ask for an export, then deleted
 * permanently. Each deletion is ops-logged under the actor "retention". Deleted clients' metrics history
 * whose deletion failed (at an erasure or a purge) is tried again.
 */
export async function enforceRetention(deps: RetentionDependencies): Promise<string[]> {
  const purged = await purgeExpired(deps);
  try {
    for (const retried of await retryMetricsDeletions(deps)) {
      deps.logger.info('metrics history of a deleted client tried again', { client: retried.clientId, outcome: retried.outcome });
    }
  } catch (error) {
    deps.logger.error('retrying metrics-history deletions failed', { error });
  }
  return purged;
}

async function purgeExpired(deps: RetentionDependencies): Promise<string[]> {
  const cutoff = deps.clock.now().getTime() - deps.retentionDays * DAY_MS;
  const purged: string[] = [];
  // A closure that stopped half way (its deprovisioning failed or was cut off) is kept, then purged, too.
  const closed = (await deps.registry.listClients()).filter((client) => isClosedStatus(client.status));
  if (closed.length === 0) return purged;
  const closures = closureDates(await deps.registry.listOpsLog({ actions: [PROVISION_ACTION, CLOSURE_ACTION, PURGE_ACTION, ERASE_ACTION] }));
  for (const client of closed) {
    const since = closedAt(client, closures);
    if (Date.parse(since) > cutoff) continue;
    try {
      if (!(await unchangedSinceListed(deps.registry, client))) {
        deps.logger.info('retention purge left for the next run: the client changed since it was listed', { client: client.id });
        continue;
      }
      await deps.deprovision.deprovision({
        clientId: client.id,
        purge: true,
        actor: 'retention',
        reason: `retention: closed ${since.slice(0, 10)}, kept ${deps.retentionDays} days`,
      });
      purged.push(client.id);
    } catch (error) {
      deps.logger.error('retention purge failed', { client: client.id, error });
    }
  }
  return purged;
}

/**
 * Whether the client's row is still the one the purge was decided on. Earlier purges in the run take time,
 * and meanwhile the client may be provisioned again (a closed client can be): a purge of the listed row
 * would then delete a live client's agent and data. Any change (status, closure) leaves it to the next run,
 * which decides again. Checked just before the purge: a provisioning that claims the client after this is
 * refused by the purge (its guard while it runs, its busy check on a fresh claim before).
 */
async function unchangedSinceListed(registry: Registry, listed: ClientRecord): Promise<boolean> {
  const current = await registry.getClient(listed.id);
  return current !== null && current.status === listed.status && current.updatedAt === listed.updatedAt;
}
