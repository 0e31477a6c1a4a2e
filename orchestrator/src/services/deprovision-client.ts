import { randomUUID } from 'node:crypto';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { ContainerRuntime } from '../ports/container-runtime.ts';
import type { ClientRecord, Registry } from '../ports/registry.ts';
import type { ScrapeTargets } from '../ports/scrape-targets.ts';
import type { ClientOperationGuard } from './client-operation-guard.ts';
import { CLIENT_STATUSES, type ClientStatus } from '../domain/client-status.ts';
import { withOperationHeartbeat } from './operation-heartbeat.ts';
import { STALE_OPERATION_MS } from './operation-heartbeat.ts';
import { PURGE_ACTION } from '../domain/ops-log-chain.ts';
import { eraseClientOpsLog, type OpsLogErasure } from './erasure/ops-log-erasure.ts';
import { forgetMetricsHistory, type MetricsHistoryDeletion } from './erasure/metrics-history-step.ts';
import type { ErasureStep } from './erasure/deletion-certificate.ts';
import { operationLive } from './erasure/provisioning-abandoned.ts';
import { expireAlertSilences } from './erasure/alert-silences-step.ts';
import type { AlertSilences } from '../ports/alert-silences.ts';

/**
 * The outcome of the purge entry a purge writes before it removes anything: a purge cut off half way (after it
 * deleted the registry row above all, when nothing else names the client) is then known to the retention run,
 * which finishes it. Closed by the purge's `success` entry.
 */
export const PURGE_STARTED = 'started';

/**
 * The outcome of the purge entry a failed purge writes (with the step it stopped at and why): the failure is on
 * the record the on-call reads, beside the `started` entry it leaves open for the retention run to finish.
 */
export const PURGE_FAILED = 'failed';

/** What the client must still be for a purge decided earlier (a retention run's) to go ahead. */
export type PurgeExpectation =
  /** Its row as listed: in this state, unchanged since (a provisioning or closure since changes the row). */
  | { status: ClientStatus; updatedAt: string }
  /** No row: the finish of a purge cut off after it deleted the row; a client made since under the id is not purged. */
  | { noRow: true };

/**
 * A purge refused because the client is no longer what it was decided on (provisioned again, closed again,
 * its row made anew): nothing was touched, and whoever decided it decides again.
 */
export class ClientChangedSincePurgeDecided extends FleetError {
  constructor(clientId: ClientId, now: string) {
    super('conflict', `${clientId} changed since its purge was decided (now ${now}); it was left as it is, to be decided on again`);
  }
}

export interface DeprovisionRequest {
  clientId: unknown;
  /**
   * Also delete the client's volume (its data) and its registry row, and erase the personal fields of its
   * ops-log entries (the end of the retention period: the logs are deleted, the record of them stays).
   */
  purge: boolean;
  actor: string;
  reason?: string | undefined;
  /**
   * A purge decided earlier (a retention run's): checked under the client's guard and in the claim itself, so a
   * client provisioned or changed between the decision and the purge is not purged (ClientChangedSincePurgeDecided).
   */
  expect?: PurgeExpectation | undefined;
}

/** How far a purge got: whether its `started` entry is written, and the step it is at (named in its `failed` entry). */
interface PurgeProgress {
  started: boolean;
  step: string;
}

/** Whether the client is still what a decided purge expects of it (`expect`). */
function stillAsDecided(record: ClientRecord | null, expect: PurgeExpectation): boolean {
  if ('noRow' in expect) return record === null;
  return record !== null && record.status === expect.status && record.updatedAt === expect.updatedAt;
}

/** Additional cleanup contributed by other modules. */
export interface DeprovisionExtension {
  /** Once the agent and its network are gone, purge or not: what served only that agent (its Vault tokens, its egress listener). */
  onRemove?: (clientId: ClientId) => Promise<void>;
  /** A purge: the client's secrets, backups and the like. */
  onPurge?: (clientId: ClientId) => Promise<void>;
}

export interface DeprovisionDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  /** One operation on a client's volume at a time (shared with backup, restore and erasure). */
  guard: ClientOperationGuard;
  clock: Clock;
  logger: Logger;
  extension?: DeprovisionExtension;
  /**
   * Prometheus's stored series of the client and the orchestrator's own per-client series, deleted by a purge
   * as by an erasure (the same step); the purge's ops-log entry says how that went.
   */
  metricsHistory?: MetricsHistoryDeletion['metricsHistory'];
  ownMetrics?: MetricsHistoryDeletion['ownMetrics'];
  /** Alertmanager's silences of the client, expired by a purge as by an erasure; absent when none is configured. */
  alertSilences?: AlertSilences | undefined;
  /** How often a running deprovision refreshes its heartbeat, in ms. Default: a fifth of STALE_OPERATION_MS. */
  heartbeatIntervalMs?: number;
}

/**
 * Stops and removes a client's agent and network and its scrape target. The volume (the client's data)
 * stays unless `purge` is set. Safe to run again: each removal is idempotent.
 */
export class DeprovisionClientService {
  private readonly deps: DeprovisionDependencies;

  constructor(deps: DeprovisionDependencies) {
    this.deps = deps;
  }

  async deprovision(request: DeprovisionRequest): Promise<{ clientId: ClientId; purged: boolean }> {
    const clientId = parseClientId(request.clientId);
    return this.deps.guard.exclusive(clientId, 'deprovisioning', () => this.deprovisionNow(clientId, request));
  }

  private async deprovisionNow(clientId: ClientId, request: DeprovisionRequest): Promise<{ clientId: ClientId; purged: boolean }> {
    const { registry, clock } = this.deps;
    const record = await registry.getClient(clientId);
    if (!record && !request.purge) {
      throw new FleetError('not_found', `no client "${clientId}" in the registry; \`fleet list\` shows the clients`);
    }
    if (request.expect !== undefined && !stillAsDecided(record, request.expect)) {
      throw new ClientChangedSincePurgeDecided(clientId, record === null ? 'without a registry row' : `${record.status}, changed ${record.updatedAt}`);
    }
    // A provisioning claims under the guard this holds, so none can start or take over while this runs. One that is
    // alive (its heartbeat fresh) is waited for; one whose orchestrator died never finishes, and is taken over here,
    // at provisioning's own take-over age, its possibly running agent and its network removed like any other.
    if (record !== null && operationLive(record, clock.now())) {
      throw new FleetError('busy', `${clientId} is being ${record.status === 'provisioning' ? 'provisioned' : 'closed'} by another operation; try again when it finishes`, { retryable: true });
    }
    // The take-over gives the client this deprovision's operation id: a provisioning taken over stops at its
    // next ownership check and leaves alone what it made (the volume above all, which only a purge removes),
    // and the fresh heartbeat keeps another orchestrator's provisioning from claiming the client meanwhile.
    // Atomic with the take-over age: a provisioning that beat since the read above is not taken over.
    const operationId = randomUUID();
    // A decided purge claims only from the state it was decided on: one changed since the read above is refused
    // by the claim itself, not purged.
    const from = request.expect !== undefined && 'status' in request.expect ? [request.expect.status] : CLIENT_STATUSES;
    if (record && !(await registry.claim(clientId, operationId, { from, to: 'deprovisioning', reason: request.reason ?? null }, clock.now(), STALE_OPERATION_MS))) {
      if (request.expect !== undefined) throw new ClientChangedSincePurgeDecided(clientId, 'in another state, or held by another operation');
      throw new FleetError('busy', `${clientId} is being provisioned (or changed state); try again when it finishes`, { retryable: true });
    }
    const claim = record ? { operationId } : null;
    const progress: PurgeProgress = { started: false, step: 'start' };
    try {
      return await withOperationHeartbeat(this.deps, { clientId, operationId, step: 'deprovisioning' }, () => this.removeAll(clientId, claim, request, progress));
    } catch (error) {
      // Stopped (its heartbeat too): the client stays 'deprovisioning', claimable at once by the next
      // operator action rather than busy until the take-over age.
      if (claim !== null) await this.release(clientId, operationId, error);
      if (progress.started) await this.recordPurgeFailure(clientId, request, progress.step, error);
      throw error;
    }
  }

  /**
   * A purge that started and failed is ops-logged as failed, at the step it stopped: not only in this process's
   * log. The message goes in the reason, which the purge that finishes erases with the client's other free text
   * (a deletion record's details are kept for good); the step and the error code stay.
   */
  private async recordPurgeFailure(clientId: ClientId, request: DeprovisionRequest, step: string, failure: unknown): Promise<void> {
    const code = failure instanceof FleetError ? failure.code : 'internal';
    const message = failure instanceof Error ? failure.message : String(failure);
    await this.deps.registry
      .appendOpsLog({ actor: request.actor, action: PURGE_ACTION, clientId, reason: `failed at ${step}: ${message}`.slice(0, 500), outcome: PURGE_FAILED, details: { step, error: code } })
      .catch((appendError: unknown) => {
        this.deps.logger.error('a failed purge could not be recorded as failed in the ops log', { client: clientId, error: appendError, failure });
      });
  }

  private async release(clientId: ClientId, operationId: string, failure: unknown): Promise<void> {
    await this.deps.registry.releaseClaim(clientId, operationId, this.deps.clock.now()).catch((error: unknown) => {
      this.deps.logger.error('a failed deprovision could not release its claim: the client stays busy until the take-over age', { client: clientId, error, failure });
    });
  }

  /** `claim`: this deprovision's, when the client has a row; null for the purge of a client the registry no longer knows. */
  private async removeAll(clientId: ClientId, claim: { operationId: string } | null, request: DeprovisionRequest, progress: PurgeProgress): Promise<{ clientId: ClientId; purged: boolean }> {
    const { registry, runtime, targets, clock } = this.deps;
    const lost = () => new FleetError('conflict', `${clientId} was taken over by another operation while it was being deprovisioned; run the deprovision again`);
    const at = (step: string) => {
      progress.step = step;
    };
    if (request.purge) {
      await registry.appendOpsLog({ actor: request.actor, action: PURGE_ACTION, clientId, reason: null, outcome: PURGE_STARTED, details: {} });
      progress.started = true;
    }
    at('scrape target');
    await targets.unregister(clientId);
    at('agent');
    await runtime.stopAgent(clientId, 10);
    await runtime.removeAgent(clientId);
    at('network');
    await runtime.removeNetwork(clientId);
    at('agent resources');
    await this.deps.extension?.onRemove?.(clientId);
    let opsLog: OpsLogErasure | null = null;
    let monitoring: ErasureStep[] | null = null;
    if (request.purge) {
      at('volume');
      await runtime.removeVolume(clientId);
      at('client stores');
      await this.deps.extension?.onPurge?.(clientId);
      at('ops log erasure');
      opsLog = await eraseClientOpsLog(registry, clientId, clock.now());
      at('registry row');
      if (!(await registry.deleteClient(clientId, claim ?? { withoutRow: true }))) {
        if (claim !== null) throw lost();
        throw new FleetError('conflict', `${clientId} was provisioned again while it was being purged: its new registry row is kept; check \`fleet status ${clientId}\``);
      }
      at('reclaim deleted rows');
      await registry.reclaimDeletedRows();
      at('monitoring');
      monitoring = [await forgetMetricsHistory(this.deps, clientId), await expireAlertSilences(this.deps, clientId)];
      at('record');
    } else if (claim !== null) {
      await registry.setSubnet(clientId, null, claim);
      if (!(await registry.transition(clientId, ['deprovisioning'], 'deprovisioned', request.reason ?? null, clock.now(), claim))) throw lost();
    }
    await registry.appendOpsLog({
      actor: request.actor,
      action: request.purge ? PURGE_ACTION : 'deprovision',
      clientId,
      reason: request.reason ?? null,
      outcome: 'success',
      details: opsLog === null ? {} : { opsLogEntriesErased: opsLog.erased, opsLogEntriesUnerasable: opsLog.unerasable, ...(monitoring === null ? {} : { steps: monitoring }) },
    });
    this.deps.logger.info('client deprovisioned', { client: clientId, purged: request.purge });
    return { clientId, purged: request.purge };
  }
}
