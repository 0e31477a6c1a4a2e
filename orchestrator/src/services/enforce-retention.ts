import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { CLIENT_DELETION_ACTIONS, PURGE_ACTION, ERASE_ACTION } from '../domain/ops-log-chain.ts';
import { isClosedStatus } from '../domain/client-status.ts';
import type { Clock } from '../ports/clock.ts';
import type { ClientRecord, OpsLogEntry, Registry } from '../ports/registry.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { ClientChangedSincePurgeDecided, PURGE_FAILED, PURGE_STARTED, type DeprovisionClientService, type PurgeExpectation } from './deprovision-client.ts';
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

/** What a retention run did, for its caller (the scheduler, the CLI) and its log line. */
export interface RetentionReport {
  /** Clients whose data was deleted by this run. */
  purged: string[];
  /** Purges that failed, each tried again by the next run: why, and how many earlier attempts failed since it started. */
  failed: Array<{ clientId: string; error: string; failedBefore: number }>;
  /** Due, but another operation held the client (a backup, an export, an erasure): tried again by the next run. */
  busy: string[];
  /** Due when listed, but changed since (provisioned or closed again): decided on again by the next run. */
  changed: string[];
  /** Closed clients whose retention period is not over yet. */
  waiting: number;
  /** Closed clients whose closure cannot be dated (a timestamp that does not parse): kept, never purged blind. */
  undated: string[];
}

/**
 * Log retention after account closure: a deprovisioned client's volume (audit log included) and its
 * secrets are kept for the retention period, so the client can still ask for an export, then deleted
 * permanently; a purge that failed or was cut off (before or after it deleted the registry row) is finished
 * by the next run. Each deletion is ops-logged under the actor "retention". Deleted clients' metrics history
 * and Alertmanager silences whose deletion failed (at an erasure or a purge) are tried again. The run's
 * counts are logged once at its end.
 */
export async function runRetention(deps: RetentionDependencies): Promise<RetentionReport> {
  const report = await purgeExpired(deps);
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
  deps.logger.info('retention run done', {
    purged: report.purged.length,
    failed: report.failed.length,
    busy: report.busy.length,
    changed: report.changed.length,
    waiting: report.waiting,
    undated: report.undated.length,
  });
  return report;
}

/** `runRetention`, answering only the clients it purged. */
export async function enforceRetention(deps: RetentionDependencies): Promise<string[]> {
  return (await runRetention(deps)).purged;
}

async function purgeExpired(deps: RetentionDependencies): Promise<RetentionReport> {
  const cutoff = deps.clock.now().getTime() - deps.retentionDays * DAY_MS;
  const report: RetentionReport = { purged: [], failed: [], busy: [], changed: [], waiting: 0, undated: [] };
  const clients = await deps.registry.listClients();
  const log = await deps.registry.listOpsLog({ actions: RETENTION_LOG_ACTIONS });
  const closures = closureDates(log);
  const started = startedPurges(log);
  // A closure that stopped half way (its deprovisioning failed or was cut off) is kept, then purged, too.
  for (const client of clients.filter((each) => isClosedStatus(each.status))) {
    const since = closedAt(client, closures);
    const purgeStartedAt = started.get(client.id);
    const retentionOver = Date.parse(since) <= cutoff;
    // A purge that started was decided then (by an operator, or by an earlier run) and failed before it deleted
    // the row: it is finished now, not once a new period has passed since the failure touched the row.
    if (!retentionOver && purgeStartedAt === undefined) {
      if (Number.isNaN(Date.parse(since))) {
        report.undated.push(client.id);
        deps.logger.error('retention: the closure of a client cannot be dated; it is kept', { client: client.id, since });
      } else report.waiting += 1;
      continue;
    }
    const reason = retentionOver ? retentionReason(deps, since) : finishingReason(purgeStartedAt ?? since);
    const stillDue = async () => {
      if (await unchangedSinceListed(deps.registry, client)) return true;
      deps.logger.info('retention purge left for the next run: the client changed since it was listed', { client: client.id });
      return false;
    };
    await purge(deps, { clientId: client.id, reason, expect: { status: client.status, updatedAt: client.updatedAt } }, stillDue, failedSince(log, client.id, purgeStartedAt), report);
  }
  for (const { clientId, since, purgeStartedAt } of unfinishedPurges(closures, clients, log)) {
    const retentionOver = Date.parse(since) <= cutoff;
    // A purge that started was decided then (by an operator, or by an earlier run): it is finished whenever.
    if (!retentionOver && purgeStartedAt === undefined) {
      report.waiting += 1;
      continue;
    }
    const reason = retentionOver ? retentionReason(deps, since) : finishingReason(purgeStartedAt ?? since);
    // Checked just before, as for a listed row: a client provisioned since under the id is not purged.
    const stillRowless = async () => (await deps.registry.getClient(parseClientId(clientId))) === null;
    await purge(deps, { clientId, reason, expect: { noRow: true } }, stillRowless, failedSince(log, clientId, purgeStartedAt), report);
  }
  return report;
}

function retentionReason(deps: Pick<RetentionDependencies, 'retentionDays'>, since: string): string {
  return `retention: closed ${since.slice(0, 10)}, kept ${deps.retentionDays} days`;
}

function finishingReason(purgeStartedAt: string): string {
  return `retention: finishing the purge started ${purgeStartedAt.slice(0, 10)}`;
}

/** The ops-log actions the retention run decides from (and the failing-purges gauge reads). */
export const RETENTION_LOG_ACTIONS = [PROVISION_ACTION, CLOSURE_ACTION, PURGE_ACTION, ERASE_ACTION, ERASURE_REQUEST_ACTION];

/**
 * Clients whose purge started and whose last attempt failed, with how many attempts failed since it
 * started: the retention run tries each again daily, and on-call is told (RetentionPurgeFailing) rather than
 * left to find the failures in the ops log. A purge attempt started again after a failure counts as failing
 * until it ends. Pure.
 */
export function failingPurges(log: readonly OpsLogEntry[]): Array<{ clientId: string; failures: number }> {
  const started = startedPurges(log);
  const lastAttempt = new Map<string, string>();
  for (const entry of log) {
    if (entry.clientId !== null && entry.action === PURGE_ACTION && started.has(entry.clientId)) lastAttempt.set(entry.clientId, entry.outcome);
  }
  const failing: Array<{ clientId: string; failures: number }> = [];
  for (const [clientId, since] of started) {
    const failures = failedSince(log, clientId, since);
    if (failures > 0 && lastAttempt.get(clientId) !== 'success') failing.push({ clientId, failures });
  }
  return failing;
}

/** The failed attempts at the client's purge since its open `started` entry (none open: none). Pure. */
function failedSince(log: readonly OpsLogEntry[], clientId: string, purgeStartedAt: string | undefined): number {
  if (purgeStartedAt === undefined) return 0;
  const since = Date.parse(purgeStartedAt);
  return log.filter((entry) => entry.clientId === clientId && entry.action === PURGE_ACTION && entry.outcome === PURGE_FAILED && Date.parse(entry.at) >= since).length;
}

/**
 * One purge, if `stillDue` says so just before it (and the deprovision, under the client's guard, agrees: the
 * client is still as listed); its outcome goes into `report`. A failure is logged and left for the next run:
 * one client's failure never stops the others'.
 */
async function purge(deps: RetentionDependencies, decided: { clientId: string; reason: string; expect: PurgeExpectation }, stillDue: () => Promise<boolean>, failedBefore: number, report: RetentionReport): Promise<void> {
  const { clientId } = decided;
  try {
    if (!(await stillDue())) {
      report.changed.push(clientId);
      return;
    }
    await deps.deprovision.deprovision({ clientId, purge: true, actor: 'retention', reason: decided.reason, expect: decided.expect });
    report.purged.push(clientId);
  } catch (error) {
    if (error instanceof ClientChangedSincePurgeDecided) {
      deps.logger.info('retention purge left for the next run: the client changed since it was listed', { client: clientId });
      report.changed.push(clientId);
    } else if (error instanceof FleetError && error.code === 'busy') {
      deps.logger.info('retention purge left for the next run: another operation holds the client', { client: clientId, error });
      report.busy.push(clientId);
    } else {
      deps.logger.error('retention purge failed; the next run tries again', { client: clientId, error, failedBefore });
      report.failed.push({ clientId, error: error instanceof Error ? error.message : String(error), failedBefore });
    }
  }
}

/**
 * When a purge of each client started (its first `started` entry) that no deletion or provisioning has
 * closed since. A provisioning that failed closes it too: it claimed the client (out of its closed state),
 * so someone wanted it back, and a closure after it is a new decision with its own retention period. Pure.
 */
export function startedPurges(entries: readonly OpsLogEntry[]): Map<string, string> {
  const started = new Map<string, string>();
  for (const entry of entries) {
    if (entry.clientId === null) continue;
    if (entry.action === PROVISION_ACTION || (entry.outcome === 'success' && CLIENT_DELETION_ACTIONS.has(entry.action))) started.delete(entry.clientId);
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
