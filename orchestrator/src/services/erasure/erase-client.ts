import { randomUUID } from 'node:crypto';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import type { MailboxGrants } from '../../ports/mailbox-grants.ts';
import type { AlertSilences } from '../../ports/alert-silences.ts';
import type { MetricsHistory } from '../../ports/metrics-history.ts';
import type { PortalStore } from '../../ports/portal-store.ts';
import type { ClientRecord, OpsLogEntry, Registry } from '../../ports/registry.ts';
import type { ScrapeTargets } from '../../ports/scrape-targets.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import type { BackupService } from '../backup/backup-service.ts';
import type { KillClientService } from '../kill-client.ts';
import { deletionCertificate, type DeletionCertificate, type ErasureStep } from './deletion-certificate.ts';
import { deadlineOf, ERASE_ACTION, ERASE_STARTED, ERASURE_REQUEST_ACTION, foldErasureRequests, parseRequestId, unfinishedErasure, type ErasureRequest } from './erasure-records.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';
import { operationLive } from './provisioning-abandoned.ts';
import { CLIENT_STATUSES } from '../../domain/client-status.ts';
import { withOperationHeartbeat } from '../operation-heartbeat.ts';
import { STALE_OPERATION_MS } from '../operation-heartbeat.ts';
import { eraseClientOpsLog, type OpsLogErasure } from './ops-log-erasure.ts';
import { forgetMetricsHistory } from './metrics-history-step.ts';
import { expireAlertSilences } from './alert-silences-step.ts';
import { expireSilencesAgain, pendingSilencesExpiry } from './alert-silences-retry.ts';

export interface EraseDependencies {
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  secrets: SecretStore;
  keys: KeyWrapper;
  grants: MailboxGrants;
  backups: Pick<BackupService, 'deleteAll'>;
  kill: Pick<KillClientService, 'kill'>;
  /** One operation on a client's volume at a time (shared with backup, restore and deprovisioning). */
  guard: ClientOperationGuard;
  /** Deletes the client's sealed incident evidence bundles; returns how many. */
  evidence: { deleteClientBundles(clientId: ClientId): Promise<number> };
  /** Forgets who at the client was told of an incident; returns how many notifications named someone. */
  incidents: { forgetClientRecipients(clientId: ClientId): Promise<number> };
  /** The egress proxy's refusal log: the client's lines (hosts its agent tried, when) go; absent without one. */
  egressRefusals?: { forgetClient(clientId: ClientId): Promise<number> } | undefined;
  /**
   * Prometheus's stored series labelled with the client (its activity over Prometheus's retention period);
   * absent when no Prometheus is configured, which the certificate then says instead of claiming them gone.
   */
  metricsHistory?: MetricsHistory | undefined;
  /** Alertmanager's silences of the client, expired last; absent when no Alertmanager is configured. */
  alertSilences?: AlertSilences | undefined;
  /**
   * The orchestrator's own per-client series that outlive the registry row (counters such as the egress
   * proxy's): dropped before the metrics history is deleted, or every scrape would write the client back.
   */
  ownMetrics?: { forgetClient(clientId: ClientId): void } | undefined;
  /** The client portal's store (admins' credentials, sessions, enrolment links); absent without a portal store. */
  portal?: Pick<PortalStore, 'forgetClient'> | undefined;
  clock: Clock;
  logger: Logger;
}

export type EraseOutcome =
  | { outcome: 'erased'; certificate: DeletionCertificate }
  | {
      outcome: 'already-erased';
      certificate: DeletionCertificate | null;
      erasedAt: string;
      /** The client's Alertmanager silences expired again, when the erasure had failed to (what its certificate says to do). */
      alertSilences?: ErasureStep;
    }
  | { outcome: 'unknown-client'; clientId: string };

/**
 * Erasure on request (right to deletion), in an order that never leaves data readable: the agent is
 * killed, the OAuth grant revoked at the provider (read from the secrets, so first), the container,
 * network, scrape target and volume removed, every backup and sealed incident evidence bundle deleted,
 * then the client's Vault objects and its key destroyed (crypto-shredding: any copy of a backup anywhere
 * stays unreadable), the registry row deleted, and last the client's series in Prometheus and its silences in
 * Alertmanager (expired: its API deletes neither them nor alerts). What stays is a tombstone and the deletion certificate
 * in the ops log, whose entries of the client keep their actions, times and outcomes but no longer its
 * admins' addresses, reasons or details.
 * Every step is idempotent: a failed erasure is run again, and finishes the job even when the run before
 * was cut off after the registry row was deleted; its certificate then says it was resumed. An unknown
 * client, or one erased before, is a no-op.
 */
export class EraseClientService {
  private readonly deps: EraseDependencies;
  /** Clients whose erasure is deleting their metrics history (in this process): see `reportedOpenRequests`. */
  private readonly forgettingMetrics = new Set<string>();

  constructor(deps: EraseDependencies) {
    this.deps = deps;
  }

  /** Records a request (idempotent per request id); the 30-day deadline runs from `receivedAt`. */
  async recordRequest(input: { clientId: unknown; requestId: unknown; receivedAt?: Date; actor: string }): Promise<ErasureRequest> {
    const clientId = parseClientId(input.clientId);
    const requestId = parseRequestId(input.requestId);
    const { registry, clock } = this.deps;
    const recorded = foldErasureRequests(await registry.listOpsLog({ clientId })).filter((request) => request.requestId === requestId);
    const open = recorded.find((request) => request.erasedAt === null);
    if (open) return open;
    if (!(await registry.getClient(clientId))) {
      // The request was carried out (the client is gone): asking again shows it, erased.
      const settled = recorded.at(-1);
      if (settled) return settled;
      throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    }
    const receivedAt = input.receivedAt ?? clock.now();
    // An invalid date compares false with everything: it would pass the check below and fail as a RangeError.
    if (!(receivedAt instanceof Date) || Number.isNaN(receivedAt.getTime())) throw new FleetError('invalid_input', 'the time the request was received is not a time');
    if (receivedAt.getTime() > clock.now().getTime() + 60_000) throw new FleetError('invalid_input', 'a request cannot be received in the future');
    await registry.appendOpsLog({
      actor: input.actor,
      action: ERASURE_REQUEST_ACTION,
      clientId,
      reason: null,
      outcome: 'pending',
      details: { requestId, receivedAt: receivedAt.toISOString(), deadline: deadlineOf(receivedAt).toISOString() },
    });
    return foldErasureRequests(await registry.listOpsLog({ clientId })).find((request) => request.requestId === requestId && request.erasedAt === null) as ErasureRequest;
  }

  /** Every open request (not yet carried out), for the deadline metric and `fleet erase --list`. */
  async openRequests(): Promise<ErasureRequest[]> {
    // Read on every metrics scrape: the two actions the fold needs, not the whole log.
    return foldErasureRequests(await this.deps.registry.listOpsLog({ actions: [ERASURE_REQUEST_ACTION, ERASE_ACTION] })).filter((request) => request.erasedAt === null);
  }

  /**
   * The open requests the deadline gauge shows: all but those of a client whose erasure is, right now,
   * deleting its metrics history; a scrape of the gauge (labelled with the client) would write it back.
   * Should that erasure fail, its request is shown again.
   */
  async reportedOpenRequests(): Promise<ErasureRequest[]> {
    return (await this.openRequests()).filter((request) => !this.forgettingMetrics.has(request.clientId));
  }

  async erase(input: { clientId: unknown; requestId: unknown; receivedAt?: Date; actor: string }): Promise<EraseOutcome> {
    const clientId = parseClientId(input.clientId);
    const requestId = parseRequestId(input.requestId);
    return this.deps.guard.exclusive(clientId, 'erasure', async () => {
      try {
        return await this.eraseNow(clientId, requestId, input);
      } finally {
        this.forgettingMetrics.delete(clientId);
      }
    });
  }

  private async eraseNow(clientId: ClientId, requestId: string, input: { receivedAt?: Date; actor: string }): Promise<EraseOutcome> {
    const { registry } = this.deps;
    const log = await registry.listOpsLog({ clientId });
    const client = await registry.getClient(clientId);
    if (client === null) return this.eraseWithoutRow(clientId, requestId, log, input.actor);
    // A provisioning or closure that is alive (its heartbeat fresh) is waited for; one whose orchestrator died
    // (or that failed and released its claim) never finishes, and must not hold the erasure past its deadline.
    if (operationLive(client, this.deps.clock.now())) {
      throw new FleetError('busy', `${clientId} is ${client.status} by another operation; erase it when that finishes`, { retryable: true });
    }
    const request = await this.recordRequest({ clientId, requestId, actor: input.actor, ...(input.receivedAt === undefined ? {} : { receivedAt: input.receivedAt }) });
    // The erasure owns the client while it runs (its operation id, its heartbeat): a provisioning elsewhere
    // neither claims it nor goes on, and the row is deleted only while it is still the erasure's.
    const operationId = randomUUID();
    const claimed = await registry.claim(clientId, operationId, { from: CLIENT_STATUSES, to: 'deprovisioning', reason: `erasure ${requestId}` }, this.deps.clock.now(), STALE_OPERATION_MS);
    if (!claimed) throw new FleetError('busy', `${clientId} is being changed by another operation; erase it when that finishes`, { retryable: true });
    const progress = { killed: client.status === 'killed' };
    try {
      return await withOperationHeartbeat(this.deps, { clientId, operationId, step: 'erasure' }, async () => {
        const resumed = unfinishedErasure(log, clientId) !== null;
        await registry.appendOpsLog({ actor: input.actor, action: ERASE_ACTION, clientId, reason: null, outcome: ERASE_STARTED, details: { requestId, clientCreatedAt: client.createdAt } });
        const steps = [...(await this.stopAgentAndGrant(client, requestId, input.actor, progress)), ...(await this.removeStoredData(clientId, { operationId }))];
        return this.certify({ clientId, createdAt: client.createdAt, request, actor: input.actor, steps, resumed });
      });
    } catch (error) {
      await this.settleFailed(client, operationId, progress.killed, error as Error);
      throw error;
    }
  }

  /**
   * A failed erasure hands the client back as the run left it, for the next run to claim at once: killed once
   * its agent was (or it was before), a closed client closed, and otherwise as it was ('failed' for a
   * provisioning the erasure took over). Nothing once another operation owns it.
   */
  private async settleFailed(client: ClientRecord, operationId: string, killed: boolean, error: Error): Promise<void> {
    const { registry, clock, logger } = this.deps;
    const closed = client.status === 'deprovisioning' || client.status === 'deprovisioned';
    const back = closed ? client.status : killed ? 'killed' : client.status === 'provisioning' ? 'failed' : client.status;
    try {
      await registry.transition(client.id, ['deprovisioning'], back, `erasure failed: ${error.message}`.slice(0, 500), clock.now(), { operationId });
      await registry.releaseClaim(client.id, operationId, clock.now());
    } catch (settleError) {
      logger.error('a failed erasure could not hand the client back: it stays busy until the take-over age', { client: client.id, error: settleError, failure: error });
    }
  }

  /**
   * No registry row: erased before (a no-op), never known, or an erasure cut off after it deleted the row
   * (or a purge that came first) with its request still open, which this run finishes and certifies.
   */
  private async eraseWithoutRow(clientId: ClientId, requestId: string, log: readonly OpsLogEntry[], actor: string): Promise<EraseOutcome> {
    const open = foldErasureRequests(log).filter((request) => request.erasedAt === null);
    if (open.length === 0) {
      const done = log.findLast((entry) => entry.action === ERASE_ACTION && entry.outcome === 'success');
      if (done) {
        const alertSilences = await this.expireSilencesAgain(clientId, log, actor);
        return { outcome: 'already-erased', erasedAt: done.at, certificate: (done.details['certificate'] as DeletionCertificate | undefined) ?? null, ...(alertSilences ? { alertSilences } : {}) };
      }
      return { outcome: 'unknown-client', clientId };
    }
    const request = open.find((candidate) => candidate.requestId === requestId);
    if (request === undefined) {
      throw new FleetError('conflict', `${clientId} is no longer in the registry but its erasure request ${open.map((candidate) => candidate.requestId).join(', ')} is open: run the erasure again with that request id to finish it`);
    }
    const started = unfinishedErasure(log, clientId);
    const createdAt = typeof started?.details['clientCreatedAt'] === 'string' ? started.details['clientCreatedAt'] : null;
    const gone = 'the registry row was already deleted (by an erasure cut off after it, or by a purge)';
    const steps: ErasureStep[] = [
      { what: 'kill', outcome: 'not-running', detail: `${gone}: the agent had been removed before it` },
      { what: 'oauth-grant', outcome: 'none-stored', detail: `${gone}, after the client's secrets: no stored grant was left to revoke` },
      ...(await this.removeStoredData(clientId, { withoutRow: true })),
    ];
    return this.certify({ clientId, createdAt, request, actor, steps, resumed: true });
  }

  /**
   * An erasure certified with its Alertmanager step failed (Alertmanager down) says to run it again: the run
   * again expires the silences, ops-logged against the deletion, and is a no-op once that succeeded.
   */
  private async expireSilencesAgain(clientId: ClientId, log: readonly OpsLogEntry[], actor: string): Promise<ErasureStep | null> {
    const deletion = pendingSilencesExpiry(log, clientId);
    const alertSilences = this.deps.alertSilences;
    if (deletion === null || alertSilences === undefined) return null;
    return expireSilencesAgain({ ...this.deps, alertSilences }, clientId, deletion, actor);
  }

  private async certify(input: { clientId: ClientId; createdAt: string | null; request: ErasureRequest; actor: string; steps: ErasureStep[]; resumed: boolean }): Promise<EraseOutcome> {
    const { clientId, request } = input;
    const erasedAt = this.deps.clock.now().toISOString();
    const certificate = deletionCertificate({
      tombstone: { clientId, createdAt: input.createdAt, erasedAt, requestId: request.requestId, requestReceivedAt: request.receivedAt },
      erasedBy: input.actor,
      deadline: request.deadline,
      steps: input.steps,
      resumed: input.resumed,
    });
    await this.deps.registry.appendOpsLog({ actor: input.actor, action: ERASE_ACTION, clientId, reason: null, outcome: 'success', details: { requestId: request.requestId, certificate } });
    this.deps.logger.warn('client erased', { client: clientId, requestId: request.requestId, resumed: input.resumed });
    return { outcome: 'erased', certificate };
  }

  /** The agent killed (its tokens revoked, its policy locked), then the OAuth grant revoked while the secrets hold it. */
  private async stopAgentAndGrant(client: ClientRecord, requestId: string, actor: string, progress: { killed: boolean }): Promise<ErasureStep[]> {
    const clientId = client.id;
    const steps: ErasureStep[] = [];
    // An abandoned provisioning may have left a running agent holding tokens: it is killed like any other.
    if (client.status === 'active' || client.status === 'failed' || client.status === 'deprovisioning' || client.status === 'provisioning') {
      const killed = await this.deps.kill.kill({ clientId, reason: `erasure ${requestId}`, actor });
      progress.killed = true;
      steps.push({ what: 'kill', outcome: 'killed', detail: `${killed.revokedTokens} agent tokens revoked; container stopped: ${killed.containerStopped}` });
    } else steps.push({ what: 'kill', outcome: 'not-running', detail: `the client was ${client.status}` });
    const grant = await this.deps.grants.revoke(clientId, client.provider);
    steps.push({ what: 'oauth-grant', outcome: grant.outcome, detail: grant.detail });
    return steps;
  }

  /**
   * Everything stored of the client, each removal idempotent; needs nothing from its registry row. `scope`:
   * the erasure's claim on the row, or (no row) that none may be made meanwhile.
   */
  private async removeStoredData(clientId: ClientId, scope: { operationId: string } | { withoutRow: true }): Promise<ErasureStep[]> {
    const { runtime, targets, secrets, registry, keys } = this.deps;
    const steps: ErasureStep[] = [];
    await runtime.volumes.removeHelpers(clientId);
    await targets.unregister(clientId);
    await runtime.stopAgent(clientId, 0);
    await runtime.removeAgent(clientId);
    await runtime.removeNetwork(clientId);
    await runtime.removeVolume(clientId);
    steps.push({ what: 'runtime', outcome: 'removed', detail: 'agent container, network, scrape target and volume' });
    const backups = await this.deps.backups.deleteAll(clientId);
    steps.push({ what: 'backups', outcome: 'deleted', detail: `${backups} backups deleted` });
    const bundles = await this.deps.evidence.deleteClientBundles(clientId);
    steps.push({ what: 'incident-evidence', outcome: 'deleted', detail: `${bundles} sealed evidence bundles deleted (their incidents keep each bundle's SHA-256)` });
    const recipients = await this.deps.incidents.forgetClientRecipients(clientId);
    steps.push({ what: 'incident-records', outcome: 'erased', detail: `${recipients} notification recipients forgotten (the incidents keep when, how and by whom the client was told)` });
    if (this.deps.egressRefusals) {
      const refusals = await this.deps.egressRefusals.forgetClient(clientId);
      steps.push({ what: 'egress-log', outcome: 'erased', detail: `${refusals} refused egress requests removed from the proxy's refusal log` });
    }
    await secrets.removeClient(clientId);
    steps.push({ what: 'vault', outcome: 'deleted', detail: 'secrets, policy, token role, control token and the client key' });
    if (!(await keyGone(keys, clientId))) throw new FleetError('internal', `the key of ${clientId} still exists after its removal: erasure not certified`);
    steps.push({ what: 'data-key', outcome: 'destroyed', detail: 'every ciphertext under the client key (volume data key, backups) is unreadable' });
    if (this.deps.portal) {
      const admins = await this.deps.portal.forgetClient(clientId);
      steps.push({ what: 'portal', outcome: 'deleted', detail: `${admins} admins' passkeys, sessions and enrolment links (used ones too), and the client's used one-tap links` });
    }
    const opsLog = await eraseClientOpsLog(registry, clientId, this.deps.clock.now());
    steps.push({ what: 'ops-log', outcome: 'erased', detail: opsLogDetail(opsLog) });
    if (!(await registry.deleteClient(clientId, scope))) {
      throw new FleetError('conflict', `${clientId} was claimed by another operation (a provisioning) while it was being erased: erasure not certified; run it again`);
    }
    const { writeAheadLog } = await registry.reclaimDeletedRows();
    const goneFrom = writeAheadLog
      ? 'the database files and its write-ahead log'
      : "the database files (the PostgreSQL server's write-ahead log, replicas and backups age them out)";
    steps.push({
      what: 'registry',
      outcome: 'deleted',
      detail: `client row, audit checkpoint and onboarding check deleted and their tables rewritten, so the rows are gone from ${goneFrom}; the tombstone and this certificate stay in the ops log`,
    });
    // Last: until the row is gone the orchestrator's own gauges (status, backups, onboarding) still carry the
    // client's label, and each scrape would write it back.
    steps.push(await forgetMetricsHistory(this.deps, clientId, () => this.forgettingMetrics.add(clientId)));
    steps.push(await expireAlertSilences(this.deps, clientId));
    return steps;
  }
}

function opsLogDetail({ erased, unerasable }: OpsLogErasure): string {
  const kept = unerasable === 0 ? '' : `; ${unerasable} entries written before ops-log fields could be erased keep theirs`;
  return `${erased} entries: client admins named as actors, reasons and details erased (the entries, their times and outcomes stay, and the chain still verifies)${kept}`;
}

/** Proof of the shredding: the secret store refuses to use the client's key because it no longer exists. */
async function keyGone(keys: KeyWrapper, clientId: ClientId): Promise<boolean> {
  try {
    await keys.wrapKey(clientId, Buffer.alloc(32));
    return false;
  } catch (error) {
    if (isFleetError(error) && error.code === 'not_found') return true;
    throw error;
  }
}
