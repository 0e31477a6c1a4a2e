import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { CLIENT_DELETION_ACTIONS, PURGE_ACTION, ERASE_ACTION } from '../domain/ops-log-chain.ts';
import { isClosedStatus } from '../domain/client-status.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClientRecord, OpsLogEntry, Registry } from '../ports/registry.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { PURGE_STARTED, type DeprovisionClientService } from './deprovision-client.ts';
import type { MetricsHistoryDeletion } from './erasure/metrics-history-step.ts';
import { retryMetricsDeletions } from './erasure/metrics-history-retry.ts';
import { retrySilencesExpiries } from './erasure/alert-silences-retry.ts';
import type { AlertSilences } from '../ports/alert-silences.ts';
import { ERASURE_REQUEST_ACTION, openErasureRequests } from './erasure/erasure-records.ts';

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
  /** Alertmanager's silences (absent: none configured): an expiry that failed at an erasure or a purge is tried again on every run until it succeeds. */
  alertSilences?: AlertSilences | undefined;
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
 * permanently; a purge cut off after it deleted the registry row is finished by the next run. Each
 * deletion is ops-logged under the actor "retention". Deleted clients' metrics history and Alertmanager
 * silences whose deletion failed (at an erasure or a purge) are tried again.
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
  try {
    for (const retried of await retrySilencesExpiries(deps)) {
      deps.logger.info('alert silences of a deleted client tried again', { client: retried.clientId, outcome: retried.outcome });
    }
  } catch (error) {
    deps.logger.error('retrying alert-silence expiries failed', { error });
  }
  return purged;
}

async function purgeExpired(deps: RetentionDependencies): Promise<string[]> {
  const cutoff = deps.clock.now().getTime() - deps.retentionDays * DAY_MS;
  const purged: string[] = [];
  const clients = await deps.registry.listClients();
  const log = await deps.registry.listOpsLog({ actions: [PROVISION_ACTION, CLOSURE_ACTION, PURGE_ACTION, ERASE_ACTION, ERASURE_REQUEST_ACTION] });
  const closures = closureDates(log);
  // A closure that stopped half way (its deprovisioning failed or was cut off) is kept, then purged, too.
  for (const client of clients.filter((each) => isClosedStatus(each.status))) {
    const since = closedAt(client, closures);
    if (Date.parse(since) > cutoff) continue;
    const stillDue = async () => {
      if (await unchangedSinceListed(deps.registry, client)) return true;
      deps.logger.info('retention purge left for the next run: the client changed since it was listed', { client: client.id });
      return false;
    };
    if (await purge(deps, client.id, retentionReason(deps, since), stillDue)) purged.push(client.id);
  }
  for (const { clientId, since, purgeStartedAt } of unfinishedPurges(closures, clients, log)) {
    const retentionOver = Date.parse(since) <= cutoff;
    // A purge that started was decided then (by an operator, or by an earlier run): it is finished whenever.
    if (!retentionOver && purgeStartedAt === undefined) continue;
    const reason = retentionOver ? retentionReason(deps, since) : `retention: finishing the purge started ${(purgeStartedAt ?? since).slice(0, 10)}`;
    // Checked just before, as for a listed row: a client provisioned since under the id is not purged.
    const stillRowless = async () => (await deps.registry.getClient(parseClientId(clientId))) === null;
    if (await purge(deps, clientId, reason, stillRowless)) purged.push(clientId);
  }
  return purged;
}

function retentionReason(deps: Pick<RetentionDependencies, 'retentionDays'>, since: string): string {
  return `retention: closed ${since.slice(0, 10)}, kept ${deps.retentionDays} days`;
}

/** One purge, if `stillDue` says so just before it; a failure is logged and left for the next run. */
async function purge(deps: RetentionDependencies, clientId: string, reason: string, stillDue: () => Promise<boolean>): Promise<boolean> {
  try {
    if (!(await stillDue())) return false;
    await deps.deprovision.deprovision({ clientId, purge: true, actor: 'retention', reason });
    return true;
  } catch (error) {
    deps.logger.error('retention purge failed', { client: clientId, error });
    return false;
  }
}

/**
 * When a purge of each client started (its first `started` entry) that no deletion or provisioning has
 * closed since. Pure.
 */
export function startedPurges(entries: readonly OpsLogEntry[]): Map<string, string> {
  const started = new Map<string, string>();
  for (const entry of entries) {
    if (entry.clientId === null) continue;
    if (entry.outcome === 'success' && (entry.action === PROVISION_ACTION || CLIENT_DELETION_ACTIONS.has(entry.action))) started.delete(entry.clientId);
    else if (entry.action === PURGE_ACTION && entry.outcome === PURGE_STARTED && !started.has(entry.clientId)) started.set(entry.clientId, entry.at);
  }
  return started;
}

export interface UnfinishedPurge {
  clientId: string;
  /** When its retention period started: its closure, or (never closed) when its purge started. */
  since: string;
  /** When a purge of it started, if one did: that purge is finished whatever the retention period. */
  purgeStartedAt?: string;
}

/**
 * Clients whose registry row is gone but whose deletion was never recorded: a purge cut off after it deleted
 * the row (before its metrics history, its alert silences and its record). They are known by their closure
 * in the ops log, or, for a client purged without being closed first (`deprovision --purge`), by the purge's
 * `started` entry. Each purge step is idempotent, so it is run again, rowless. Those with an open erasure
 * request are the erasure's to finish (its certificate, its deadline). Pure.
 */
export function unfinishedPurges(closures: ReadonlyMap<string, string>, clients: readonly Pick<ClientRecord, 'id'>[], log: readonly OpsLogEntry[]): UnfinishedPurge[] {
  const withRow = new Set<string>(clients.map((client) => client.id));
  const erasing = new Set(openErasureRequests(log).map((request) => request.clientId));
  const started = startedPurges(log);
  const rowless = new Set([...closures.keys(), ...started.keys()].filter((clientId) => !withRow.has(clientId) && !erasing.has(clientId)));
  const purges: UnfinishedPurge[] = [];
  for (const clientId of rowless) {
    const closedAt = closures.get(clientId);
    const purgeStartedAt = started.get(clientId);
    if (purgeStartedAt === undefined) {
      if (closedAt !== undefined) purges.push({ clientId, since: closedAt });
    } else purges.push({ clientId, since: closedAt ?? purgeStartedAt, purgeStartedAt });
  }
  return purges;
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
