import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type {
  ApprovalDecision,
  ApprovalDetail,
  AuditEvent,
  AuditFilter,
  ClientGateway,
  ClientStatusView,
  DailySummary,
  DecisionOutcome,
  DraftMessage,
  KillOutcome,
  ParkedEmail,
  ParkedEmailAction,
  StatusReadOptions,
  SupportRequest,
} from '../../../orchestrator/src/portal/client-gateway.ts';

interface ClientState {
  admins: string[];
  killed: boolean;
  reason: string | null;
  /** Who began the current stop (a client admin's address) and when; null when not stopped. */
  stoppedBy: string | null;
  stoppedAt: string | null;
  approvals: Map<string, ApprovalDetail>;
  support: SupportRequest[];
  audit: AuditEvent[];
  /** Emails set aside for a person; `resolved` once handled or given back (the agent's review queue). */
  parked: (ParkedEmail & { resolved?: ParkedEmailAction })[];
}

/**
 * The portal's gateway as a test double (phase 1: the real agent comes later). It keeps what the portal
 * did (decisions, sent drafts, kills, exports, admin events) so that tests can assert the effects, and
 * follows the agent's rules: unknown id → not_found, decided or expired → conflict, an edit to a blocked
 * recipient the approval did not name as blocked → executed as `blocked`.
 */
export class MemoryClientGateway implements ClientGateway {
  readonly clients = new Map<string, ClientState>();
  readonly sent: {
    clientId: string;
    approvalId: string;
    draft: Pick<DraftMessage, 'to' | 'cc' | 'subject' | 'body'>;
    /** The Bcc it went to: the admin's when the edit gave one, else the draft's. */
    bcc: string[];
    by: string;
  }[] = [];
  readonly events: { clientId: string; by: string; event: string }[] = [];
  readonly exports: { clientId: string; format: string; by: string }[] = [];
  readonly blockedRecipients = new Set<string>(['attacker@evil.example']);
  now: () => Date = () => new Date();

  addClient(clientId: string, admins: string[]): ClientState {
    const state: ClientState = {
      admins: admins.map((a) => a.toLowerCase()),
      killed: false,
      reason: null,
      stoppedBy: null,
      stoppedAt: null,
      approvals: new Map(),
      support: [],
      audit: [],
      parked: [],
    };
    this.clients.set(clientId, state);
    return state;
  }

  addSupportRequest(clientId: string, request: SupportRequest): void {
    this.client(clientId).support.push({ ...request });
  }

  addApproval(
    clientId: string,
    approval: Partial<ApprovalDetail> & { id: string; draft: DraftMessage },
  ): ApprovalDetail {
    const now = this.now();
    const full: ApprovalDetail = {
      state: 'pending',
      action: 'mail.send',
      recipients: approval.draft.to,
      subject: approval.draft.subject,
      reasons: ['new recipient outside the allow-list'],
      createdAt: new Date(now.getTime() - 3_600_000).toISOString(),
      expiresAt: new Date(now.getTime() + 47 * 3_600_000).toISOString(),
      arguments: { kind: 'mail.send', ...approval.draft },
      thread: [],
      threadAvailable: true,
      signals: [],
      sender: null,
      decision: null,
      ...approval,
    };
    this.client(clientId).approvals.set(full.id, full);
    return full;
  }

  private client(clientId: string): ClientState {
    const state = this.clients.get(clientId);
    if (!state) throw new FleetError('not_found', `no client ${clientId}`);
    return state;
  }

  async admins(clientId: string): Promise<string[]> {
    return [...(this.clients.get(clientId)?.admins ?? [])];
  }

  async status(clientId: string, options: StatusReadOptions = {}): Promise<ClientStatusView> {
    const state = this.client(clientId);
    if (!state.killed || options.stop !== true) return { killed: state.killed, reason: state.reason };
    return {
      killed: true,
      reason: state.reason,
      stoppedAt: state.stoppedAt,
      stoppedBy: state.stoppedBy === null ? null : { kind: 'client-admin', email: state.stoppedBy },
      agencyStoppedAt: null,
    };
  }

  async listApprovals(clientId: string) {
    return [...this.client(clientId).approvals.values()].filter(
      (a) => a.state === 'pending' || a.state === 'expired',
    );
  }

  async getApproval(clientId: string, approvalId: string): Promise<ApprovalDetail | null> {
    return this.clients.get(clientId)?.approvals.get(approvalId) ?? null;
  }

  async decide(
    clientId: string,
    approvalId: string,
    decision: ApprovalDecision,
    by: string,
  ): Promise<DecisionOutcome> {
    const approval = this.client(clientId).approvals.get(approvalId);
    if (!approval) throw new FleetError('not_found', `no approval ${approvalId}`);
    if (approval.state !== 'pending' || Date.parse(approval.expiresAt) <= this.now().getTime()) {
      throw new FleetError(
        'conflict',
        `approval ${approvalId} is ${approval.state === 'pending' ? 'expired' : approval.state}`,
      );
    }
    const at = this.now().toISOString();
    if (decision.decision === 'reject') {
      approval.state = 'rejected';
      approval.decision = { outcome: 'reject', by, at, reason: decision.reason };
      return { state: 'rejected', execution: 'none' };
    }
    const draft = decision.decision === 'edit' ? decision.draft : approval.draft!;
    approval.state = decision.decision === 'edit' ? 'edited' : 'approved';
    approval.decision = { outcome: decision.decision, by, at, reason: null };
    // As the agent's gate: every recipient of the version approved, the Bcc the admin left included; an
    // approval covers only the blocked recipients its page named (`blockedRecipients`), none added later.
    const bcc = (draft as { bcc?: string[] }).bcc ?? approval.draft!.bcc;
    const shownBlocked = new Set(approval.blockedRecipients ?? []);
    if ([...draft.to, ...draft.cc, ...bcc].some((address) => this.blockedRecipients.has(address) && !shownBlocked.has(address)))
      return { state: approval.state, execution: 'blocked' };
    this.sent.push({
      clientId,
      approvalId,
      draft: { to: draft.to, cc: draft.cc, subject: draft.subject, body: draft.body },
      bcc,
      by,
    });
    return { state: approval.state, execution: 'done' };
  }

  /** As the kill service: a client killed already keeps the reason of its stop, and the outcome says so. */
  async kill(clientId: string, reason: string, by: string): Promise<KillOutcome> {
    const state = this.client(clientId);
    const alreadyStopped = state.killed;
    state.killed = true;
    if (!alreadyStopped) {
      state.reason = reason;
      state.stoppedAt = this.now().toISOString();
      state.stoppedBy = by;
    }
    this.events.push({ clientId, by, event: 'kill' });
    return { alreadyStopped };
  }

  async revive(clientId: string, reason: string, by: string): Promise<void> {
    const state = this.client(clientId);
    if (!state.killed) throw new FleetError('conflict', `${clientId} is not killed; nothing to revive`);
    // As the real gateway (stop-rights.ts): only a stop the client's admins began is theirs to revive.
    if (state.stoppedBy === null) throw new FleetError('forbidden', `${clientId} was stopped by the agency: only the agency can restart it`);
    state.killed = false;
    state.reason = null;
    state.stoppedBy = null;
    state.stoppedAt = null;
    this.events.push({ clientId, by, event: `revive: ${reason}` });
  }

  async supportRequests(clientId: string): Promise<SupportRequest[]> {
    return this.client(clientId).support.map((request) => ({ ...request }));
  }

  async decideSupport(
    clientId: string,
    grantId: string,
    decision: 'approve' | 'deny',
    by: string,
  ): Promise<SupportRequest> {
    const request = this.clients.get(clientId)?.support.find((candidate) => candidate.id === grantId);
    if (!request) throw new FleetError('not_found', `no support grant ${grantId}`);
    if (request.state !== 'pending')
      throw new FleetError(
        'conflict',
        `grant ${grantId} is ${request.state}; only a pending grant can be decided`,
      );
    if (decision === 'approve') {
      request.state = 'active';
      request.approvedBy = by;
      request.expiresAt = new Date(this.now().getTime() + request.hours * 3_600_000).toISOString();
    } else {
      request.state = 'revoked';
    }
    return { ...request };
  }

  async endSupport(clientId: string, grantId: string, by: string): Promise<SupportRequest> {
    const request = this.clients.get(clientId)?.support.find((candidate) => candidate.id === grantId);
    if (!request) throw new FleetError('not_found', `no support grant ${grantId}`);
    if (request.state !== 'active') throw new FleetError('conflict', 'This access has already ended. The agency has no access through it.');
    request.state = 'revoked';
    this.events.push({ clientId, by, event: `support-end: ${grantId}` });
    return { ...request };
  }

  async auditTimeline(clientId: string, filter: AuditFilter): Promise<AuditEvent[]> {
    return this.client(clientId)
      .audit.filter((event) => !filter.types?.length || filter.types.includes(event.type))
      .filter(
        (event) =>
          (!filter.since || Date.parse(event.at) >= filter.since.getTime()) &&
          (!filter.until || Date.parse(event.at) < filter.until.getTime()),
      )
      .sort((a, b) => b.seq - a.seq)
      .slice(0, filter.limit);
  }

  async exportAudit(
    clientId: string,
    format: 'csv' | 'jsonl',
    sink: NodeJS.WritableStream,
    _range: { since?: Date; until?: Date },
    by: string,
  ): Promise<void> {
    const events = this.client(clientId).audit;
    this.exports.push({ clientId, format, by });
    if (format === 'csv') {
      sink.write('seq,timestamp,action_type,actor,target,result\n');
      for (const e of events)
        sink.write(`${e.seq},${e.at},${e.type},${e.actor},${e.target ?? ''},${e.result}\n`);
    } else {
      for (const e of events)
        sink.write(
          `${JSON.stringify({ seq: e.seq, timestamp: e.at, action_type: e.type, actor: e.actor, target: e.target, result: e.result })}\n`,
        );
    }
  }

  async dailySummary(clientId: string, date: string): Promise<DailySummary> {
    const events = this.client(clientId).audit.filter((event) => event.at.startsWith(date));
    const count = (type: string) => events.filter((event) => event.type === type).length;
    const pending = (await this.listApprovals(clientId)).filter((a) => a.state === 'pending');
    return {
      date,
      timezone: 'UTC',
      pending: pending.map((a) => ({ id: a.id, subject: a.subject, recipients: a.recipients.join(', '), expiresAt: a.expiresAt })),
      reviewQueued: 0,
      read: count('email_read'),
      drafted: count('email_draft'),
      sent: count('email_send'),
      blocked: count('policy_denied'),
      pendingApprovals: pending.length,
      decidedApprovals: count('approval_decided'),
      expiredApprovals: count('approval_expired'),
      modelCostUsd: count('email_read') * 0.012,
      anomalies: events
        .filter((event) => event.type === 'kill')
        .map((event) => ({ at: event.at, kind: 'kill', detail: `by ${event.actor}` })),
    };
  }

  async recordAdminEvent(clientId: string, by: string, event: string): Promise<void> {
    this.events.push({ clientId, by, event });
  }

  /** Follows the agent's review queue: oldest first; resolved ones leave it. */
  async parkedEmails(clientId: string): Promise<{ emails: ParkedEmail[]; limit: number | null }> {
    const emails = this.client(clientId)
      .parked.filter((email) => email.resolved === undefined)
      .map(({ resolved: _resolved, ...email }) => ({ ...email }))
      .sort((a, b) => a.since.localeCompare(b.since));
    return { emails, limit: 1000 };
  }

  /** The agent's rules: unknown → not_found, the same again → unchanged, a second retry or a switch → conflict. */
  async resolveParkedEmail(clientId: string, messageId: string, action: ParkedEmailAction, by: string): Promise<{ changed: boolean }> {
    const email = this.client(clientId).parked.find((candidate) => candidate.messageId === messageId);
    if (!email) throw new FleetError('not_found', 'no such message in the review queue');
    if (email.resolved === action) return { changed: false };
    if (email.resolved !== undefined || (action === 'retry' && email.retried)) throw new FleetError('conflict', 'the message is not waiting for review');
    email.resolved = action;
    this.events.push({ clientId, by, event: `review-${action}: ${messageId}` });
    return { changed: true };
  }
}
