import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { isClosedStatus, type ClientStatus } from '../../domain/client-status.ts';
import type { Registry } from '../../ports/registry.ts';
import type { AgentProxyService } from '../../services/agent-proxy.ts';
import type { AgentViewsService } from '../../services/agent-views.ts';
import type { KillClientService } from '../../services/kill-client.ts';
import type { ReviveClientService } from '../../services/revive-client.ts';
import { listClientReviewQueue, resolveReviewEntry, type ReviewQueueDependencies } from '../../services/review-queue.ts';
import type { SupportAccessService, SupportGrant } from '../../services/support-access.ts';
import type {
  AccountClosure,
  ApprovalDecision,
  ApprovalDetail,
  ApprovalSummary,
  AuditEvent,
  AuditFilter,
  ClientGateway,
  ClientStatusView,
  DailySummary,
  DecisionOutcome,
  KillOutcome,
  ParkedEmail,
  ParkedEmailAction,
  StatusReadOptions,
  SupportRequest,
} from '../client-gateway.ts';
import {
  editedArguments,
  toApprovalDetail,
  toApprovalSummary,
  type AgentApproval,
  type AgentApprovalView,
} from './approval-mapping.ts';
import { auditEventOf } from './audit-event.ts';
import { adminsMayRevive } from '../stop-rights.ts';
import { currentStop, STOP_ACTIONS, type CurrentStop } from './current-stop.ts';

export interface ServicesGatewayDependencies {
  registry: Registry;
  agents: Pick<AgentProxyService, 'listApprovals' | 'decide' | 'exportAudit'>;
  views: Pick<AgentViewsService, 'approval' | 'summary' | 'auditRecords'>;
  killer: Pick<KillClientService, 'kill'>;
  reviver: Pick<ReviveClientService, 'revive'>;
  support: Pick<SupportAccessService, 'list' | 'approve' | 'revoke'>;
  /** The agents' review queues (services/review-queue.ts). */
  review: ReviewQueueDependencies;
}

/** The agent answers at most this many audit records per request. */
const MAX_RECORDS = 500;

/** The agent's summary of a day (`GET /v1/summary`), the fields shown. */
interface AgentDaySummary {
  date: string;
  timezone: string;
  report: {
    read: number;
    drafted: number;
    sent: number;
    blocked: number;
    reviewQueued: number;
    decidedApprovals: number;
    pendingApprovals: { id: string; recipients: string; subject: string; expiresAt: string }[];
    expiredApprovals: unknown[];
    /** All of the day's expired approvals: the list above keeps the first hundred (absent from agents before the cap). */
    expiredApprovalsTotal?: number;
    anomalies: { at: string; kind: string; detail: string }[];
    /** All of the day's anomalies, likewise. */
    anomaliesTotal?: number;
    llm?: { costUsd?: unknown };
  };
}
/** The agent's figure for the day's model cost, when it is one (the answer comes from inside the client's container). */
const spentUsd = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null);

/** A total the agent reported, when it is one and not below what its list holds; else the list's length. */
const countOf = (total: unknown, listed: number): number =>
  typeof total === 'number' && Number.isSafeInteger(total) && total >= listed ? total : listed;

/** How the ops log names a client admin acting through the portal (never a self-declared name). */
const actorOf = (by: string) => `client-admin:${by}`;

function toSupportRequest(grant: SupportGrant): SupportRequest {
  return {
    id: grant.id,
    member: grant.member,
    requestedBy: grant.requestedBy,
    incident: grant.incident,
    reason: grant.reason,
    hours: grant.hours,
    requestedAt: grant.requestedAt,
    state: grant.status,
    approvedBy: grant.approvedBy,
    expiresAt: grant.expiresAt,
  };
}

/** What became of a request that is no longer pending, in the words the portal shows a client admin. */
function decidedText(grant: SupportGrant): string {
  if (grant.status === 'active') return `This request was approved already, by ${String(grant.approvedBy)}: the access is open. You can end it from the support page.`;
  if (grant.status === 'revoked') {
    return grant.approvedBy === null
      ? 'This request was already denied (by another of your administrators, or withdrawn by the agency). Nobody has access through it.'
      : 'This request was approved, and that access has since been ended. Nobody has access through it.';
  }
  return grant.approvedBy === null
    ? 'This request was not answered in time and has expired. Nobody has access through it; the agency must ask again.'
    : 'This request was approved, and that access has since run out. Nobody has access through it.';
}

/** The account state of a closed client's status; null for an open one. */
const closureOf = (status: ClientStatus): AccountClosure | null =>
  isClosedStatus(status) ? (status === 'deprovisioning' ? 'closing' : 'closed') : null;

/** Why a grant that is not active cannot be ended, in the words the portal shows a client admin. */
function notActiveText(status: SupportGrant['status']): string {
  if (status === 'pending') return 'This request was never approved, so there is no access to end. Deny it instead.';
  return 'This access has already ended. The agency has no access through it.';
}

/**
 * The portal's gateway over the orchestrator's own services: the registry (admins, status, ops log), the
 * agent proxy (approvals, audit), the kill and revive services and support access. Each action is in the
 * ops log as `client-admin:<address>`, and reaches the agent with the admin as `by`.
 */
export class ServicesClientGateway implements ClientGateway {
  private readonly deps: ServicesGatewayDependencies;

  constructor(deps: ServicesGatewayDependencies) {
    this.deps = deps;
  }

  async admins(clientId: string): Promise<string[]> {
    let id: ClientId;
    try {
      id = parseClientId(clientId);
    } catch {
      return [];
    }
    const record = await this.deps.registry.getClient(id);
    // A closed client keeps its admins through its retention period: its data is still its own to export.
    if (!record) return [];
    return parseClientConfigYaml(record.configYaml, `the config of ${id}`).admins.map((admin) =>
      admin.toLowerCase(),
    );
  }

  async status(clientId: string, options: StatusReadOptions = {}): Promise<ClientStatusView> {
    const record = await this.deps.registry.getClient(parseClientId(clientId));
    if (!record) throw new FleetError('not_found', `no client "${clientId}"`);
    const closure = closureOf(record.status);
    if (closure !== null) return { killed: false, reason: null, closure };
    if (record.status !== 'killed') return { killed: false, reason: null };
    if (options.stop !== true) return { killed: true, reason: record.statusReason };
    const stop = await this.stopOf(record.id)
      // When and by whom only add to what the page says; the stop itself is known without them.
      .catch(() => null);
    return {
      killed: true,
      reason: record.statusReason,
      stoppedAt: stop?.at ?? null,
      stoppedBy: stop?.by ?? null,
      agencyStoppedAt: stop?.agencyStoppedAt ?? null,
    };
  }

  private async stopOf(clientId: ClientId): Promise<CurrentStop | null> {
    return currentStop(await this.deps.registry.listOpsLog({ clientId, actions: STOP_ACTIONS }));
  }

  async listApprovals(clientId: string): Promise<ApprovalSummary[]> {
    const answer = (await this.deps.agents.listApprovals(clientId, 'pending')) as {
      approvals: AgentApproval[];
    };
    return answer.approvals.map(toApprovalSummary);
  }

  async getApproval(clientId: string, approvalId: string): Promise<ApprovalDetail | null> {
    const view = (await this.deps.views.approval(clientId, approvalId)) as AgentApprovalView | null;
    return view === null ? null : toApprovalDetail(view);
  }

  async decide(
    clientId: string,
    approvalId: string,
    decision: ApprovalDecision,
    by: string,
  ): Promise<DecisionOutcome> {
    let input: Parameters<AgentProxyService['decide']>[2];
    if (decision.decision === 'edit') {
      const current = await this.getApproval(clientId, approvalId);
      if (!current) throw new FleetError('not_found', `no approval ${approvalId}`);
      input = { decision: 'edit', by, via: 'portal', arguments: editedArguments(current.arguments, decision.draft) };
    } else {
      input =
        decision.decision === 'reject'
          ? { decision: 'reject', by, via: 'portal', reason: decision.reason }
          : { decision: 'approve', by, via: 'portal' };
    }
    const result = (await this.deps.agents.decide(clientId, approvalId, input, actorOf(by))) as {
      status: DecisionOutcome['state'];
      execution: DecisionOutcome['execution'];
    };
    return { state: result.status, execution: result.execution };
  }

  /**
   * The kill service applies its lockdown again to a client already killed (on purpose: a stop that failed
   * part way is completed by the next), and its check-and-set move decides which of two kills at once began
   * the stop: the second of a double submit is told the agent was already stopped.
   */
  async kill(clientId: string, reason: string, by: string): Promise<KillOutcome> {
    const result = await this.deps.killer.kill({ clientId, reason, actor: actorOf(by) });
    if (result.alreadyKilled) return { alreadyStopped: true };
    // The kill service locks down and stops a closed client without marking it killed: it stays closed.
    const record = await this.deps.registry.getClient(result.clientId).catch(() => null);
    const closure = record ? closureOf(record.status) : null;
    return closure === null ? { alreadyStopped: false } : { alreadyStopped: false, closure };
  }

  /**
   * Only a stop the client's own admins made, and the agency did not join, is restarted from the portal:
   * checked here, before the revive service (which any operator's revive also goes through) is asked.
   */
  async revive(clientId: string, reason: string, by: string): Promise<void> {
    const id = parseClientId(clientId);
    const record = await this.deps.registry.getClient(id);
    if (!record) throw new FleetError('not_found', `no client "${clientId}"`);
    if (closureOf(record.status) !== null) throw new FleetError('conflict', `${id} is closed: its agent is removed and is never revived`);
    if (record.status === 'killed') {
      const stop = await this.stopOf(id).catch((error: unknown) => {
        throw new FleetError('unavailable', `who stopped ${id} could not be read, so the revive was not tried`, { retryable: true, cause: error });
      });
      if (!adminsMayRevive(stop)) throw new FleetError('forbidden', `${id} was stopped by the agency: only the agency can revive it`);
    }
    // Not killed: the revive service refuses it (conflict), with the reason it finds.
    await this.deps.reviver.revive({ clientId: id, reason, actor: actorOf(by) });
  }

  async supportRequests(clientId: string): Promise<SupportRequest[]> {
    return (await this.deps.support.list(clientId)).map(toSupportRequest);
  }

  async decideSupport(
    clientId: string,
    grantId: string,
    decision: 'approve' | 'deny',
    by: string,
  ): Promise<SupportRequest> {
    const grant = await this.grantOf(clientId, grantId);
    if (grant.status !== 'pending') throw new FleetError('conflict', decidedText(grant));
    if (decision === 'deny') {
      // Approved since the read above (another admin at the same moment): the deny ends that access, and
      // the answer, approvedBy and all, lets the page say so.
      return toSupportRequest(await this.deps.support.revoke({ clientId, grantId, actor: actorOf(by) }));
    }
    try {
      return toSupportRequest(await this.deps.support.approve({ clientId, grantId, by, actor: actorOf(by) }));
    } catch (error) {
      // Decided or expired since the read above: what became of it, not the service's operator words.
      if (!isFleetError(error) || error.code !== 'conflict') throw error;
      const now = await this.grantOf(clientId, grantId);
      throw now.status === 'pending' ? error : new FleetError('conflict', decidedText(now), { cause: error });
    }
  }

  private async grantOf(clientId: string, grantId: string): Promise<SupportGrant> {
    const grant = (await this.deps.support.list(clientId)).find((candidate) => candidate.id === grantId);
    if (!grant) throw new FleetError('not_found', `no support grant ${grantId}`);
    return grant;
  }

  async endSupport(clientId: string, grantId: string, by: string): Promise<SupportRequest> {
    const grant = await this.grantOf(clientId, grantId);
    if (grant.status !== 'active') throw new FleetError('conflict', notActiveText(grant.status));
    const ended = await this.deps.support.revoke({ clientId, grantId, actor: actorOf(by) });
    // It may have expired between the two reads: then nothing was logged, and it has ended all the same.
    return toSupportRequest(ended);
  }

  async auditTimeline(clientId: string, filter: AuditFilter): Promise<AuditEvent[]> {
    const records = await this.deps.views.auditRecords(clientId, {
      limit: Math.min(filter.limit, MAX_RECORDS),
      ...(filter.types ? { types: filter.types } : {}),
      ...(filter.since ? { since: filter.since } : {}),
      ...(filter.until ? { until: filter.until } : {}),
    });
    return records.map(auditEventOf).filter((event): event is AuditEvent => event !== null);
  }

  async exportAudit(
    clientId: string,
    format: 'csv' | 'jsonl',
    sink: NodeJS.WritableStream,
    range: { since?: Date; until?: Date },
    by: string,
  ): Promise<void> {
    await this.deps.registry.appendOpsLog({
      actor: actorOf(by),
      action: 'audit-export',
      clientId,
      reason: null,
      outcome: 'success',
      details: { format, via: 'portal' },
    });
    await this.deps.agents.exportAudit(
      clientId,
      {
        format,
        ...(range.since ? { since: range.since.toISOString() } : {}),
        ...(range.until ? { until: range.until.toISOString() } : {}),
      },
      sink,
    );
  }

  /** The agent's own summary of the client's local day, as the emailed summary counts it. */
  async dailySummary(clientId: string, date: string): Promise<DailySummary> {
    const { timezone, report } = (await this.deps.views.summary(clientId, date)) as AgentDaySummary;
    return {
      date,
      timezone,
      read: report.read,
      drafted: report.drafted,
      sent: report.sent,
      blocked: report.blocked,
      reviewQueued: report.reviewQueued,
      pendingApprovals: report.pendingApprovals.length,
      pending: report.pendingApprovals,
      decidedApprovals: report.decidedApprovals,
      expiredApprovals: countOf(report.expiredApprovalsTotal, report.expiredApprovals.length),
      modelCostUsd: spentUsd(report.llm?.costUsd),
      anomalies: report.anomalies,
      anomaliesTotal: countOf(report.anomaliesTotal, report.anomalies.length),
    };
  }

  async parkedEmails(clientId: string): Promise<{ emails: ParkedEmail[]; limit: number | null }> {
    const queue = await listClientReviewQueue(this.deps.review, clientId);
    return {
      emails: queue.review.map((entry) => ({
        messageId: entry.messageId,
        reason: entry.reason,
        since: entry.since,
        sender: entry.sender,
        subject: entry.subject,
        retried: entry.retriedFrom !== null,
      })),
      limit: queue.limit,
    };
  }

  async resolveParkedEmail(clientId: string, messageId: string, action: ParkedEmailAction, by: string): Promise<{ changed: boolean }> {
    const result = await resolveReviewEntry(this.deps.review, clientId, { messageId, resolution: action, by, actor: actorOf(by), via: 'portal' });
    return { changed: result.changed };
  }

  async recordAdminEvent(clientId: string, by: string, event: string): Promise<void> {
    await this.deps.registry.appendOpsLog({
      actor: actorOf(by),
      action: event,
      clientId,
      reason: null,
      outcome: 'success',
      details: { via: 'portal' },
    });
  }
}
