/**
 * The one port through which the portal reaches everything outside it: the client's admins and status,
 * its agent (approvals, audit, summary), the kill switch and support grants. Every method takes the
 * client of the signed-in admin's session, never one from the request, and answers only about that
 * client: an id of another client is simply not found. `by` is always the authenticated admin.
 * Client content (drafts, audit records) passes through and is never stored by the portal.
 */

export type ApprovalState = 'pending' | 'approved' | 'edited' | 'rejected' | 'expired';

export interface DraftMessage {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  body: string;
}

/** A message of the thread the draft answers, oldest first, minimised by the agent. */
export interface ThreadMessage {
  from: string;
  at: string;
  subject: string;
  body: string;
  /** Written by the correspondent (not the client's mailbox): untrusted content, shown as such. */
  fromCorrespondent: boolean;
}

export interface ApprovalSummary {
  id: string;
  state: ApprovalState;
  /** The action kind, e.g. `mail.send`. */
  action: string;
  recipients: string[];
  subject: string;
  /** The gate's reasons for asking a human. */
  reasons: string[];
  createdAt: string;
  expiresAt: string;
}

export interface ApprovalDetail extends ApprovalSummary {
  /** The whole draft, for message actions; null for other kinds (then `arguments` is all there is). */
  draft: DraftMessage | null;
  /** The proposed arguments as the gate saw them. */
  arguments: unknown;
  /** Context: the thread the draft replies to (empty when the agent gives none). */
  thread: ThreadMessage[];
  /** False when the agent could not read the thread (mailbox not connected, provider error). */
  threadAvailable: boolean;
  /** Injection signals of the answered message, established by code when it was read. */
  signals: string[];
  /** The calendar event that goes out with the email when approved (a scheduling confirmation's). */
  event?: { title: string; start: string; end: string | null; timeZone: string; attendees: string[] } | null;
  /**
   * The recipients the client's block list matched when the approval was asked: approving sends to them
   * anyway, so the page names each. Absent or empty when none was, or on approvals made before they were kept.
   */
  blockedRecipients?: string[];
  /** What code established about the answered message's sender; null when unknown. */
  sender: { address: string; authenticated: boolean; knownContact: boolean | null } | null;
  decision: {
    outcome: 'approve' | 'edit' | 'reject';
    by: string;
    at: string | null;
    reason: string | null;
  } | null;
}

export type ApprovalDecision =
  | { decision: 'approve' }
  | { decision: 'reject'; reason: string }
  /** `bcc`: what the edited email is blind-copied to (none when empty); absent, the proposal's Bcc stays. */
  | { decision: 'edit'; draft: Pick<DraftMessage, 'to' | 'cc' | 'subject' | 'body'> & { bcc?: string[] } };

/** What came of a decision: `blocked` when the gate refused the edited (or approved) action. */
export interface DecisionOutcome {
  state: ApprovalState;
  execution: 'none' | 'waiting' | 'done' | 'blocked';
}

/** Who stopped the agent, as a client admin is told: one of the client's admins, or the agency. */
export type StoppedBy = { kind: 'client-admin'; email: string } | { kind: 'agency' };

export interface ClientStatusView {
  killed: boolean;
  /** Why it was killed, when it is. */
  reason: string | null;
  /** When the current stop began (ISO 8601); absent or null when not killed, not asked for or not known. */
  stoppedAt?: string | null;
  /** Who began the current stop; absent or null when not killed, not asked for or not known. */
  stoppedBy?: StoppedBy | null;
  /**
   * When the agency (anyone but the client's admins) first stopped the agent during the current stop: then
   * only the agency can restart it (stop-rights.ts). Null when only the client's admins stopped it; absent
   * when not killed or not asked for.
   */
  agencyStoppedAt?: string | null;
  /**
   * The client's account is being closed (`closing`: its agent being removed) or closed (`closed`: removed,
   * its data kept for the retention period, its admins still able to sign in). Its agent never runs again:
   * there is nothing to revive. Absent or null for an open account.
   */
  closure?: AccountClosure | null;
}

/** A client's account on its way out: being closed, or closed. */
export type AccountClosure = 'closing' | 'closed';

/** What a status read says beyond running or stopped. */
export interface StatusReadOptions {
  /**
   * Also when and by whom the current stop began (`stoppedAt`, `stoppedBy`): a read of the ops log, so
   * only the pages that show them ask; every other page needs only running or stopped.
   */
  stop?: boolean;
}

/** What a press of the kill switch did. */
export interface KillOutcome {
  /**
   * True when the agent was stopped already: the lockdown was applied again (access revoked, container
   * stopped, recorded), and nothing else changed.
   */
  alreadyStopped: boolean;
  /**
   * Set when the client's account is being closed or closed: the lockdown and stop were applied all the same,
   * but the client was not marked stopped (a closed account is never revived). Absent or null otherwise.
   */
  closure?: AccountClosure | null;
}

export type SupportState = 'pending' | 'active' | 'expired' | 'revoked';

export interface SupportRequest {
  id: string;
  /** The agency team member the access is for. */
  member: string;
  /** Who logged the request, when the gateway knows it (it may be a lead asking for the member). */
  requestedBy?: string;
  incident: string;
  reason: string;
  hours: number;
  requestedAt: string;
  state: SupportState;
  approvedBy: string | null;
  expiresAt: string | null;
}

export interface AuditFilter {
  /** Action types to show (audit `action_type`); empty or absent: all. */
  types?: string[];
  since?: Date;
  until?: Date;
  /** At most this many, newest first. */
  limit: number;
}

export interface AuditEvent {
  seq: number;
  at: string;
  type: string;
  actor: string;
  target: string | null;
  result: string;
  approval: string;
}

export interface DailySummary {
  date: string;
  /** The client's time zone: the day is its local day. */
  timezone: string;
  /** Pending approvals of the day's report, each linked to its page. */
  pending: { id: string; subject: string; recipients: string; expiresAt: string }[];
  reviewQueued: number;
  read: number;
  drafted: number;
  sent: number;
  blocked: number;
  pendingApprovals: number;
  decidedApprovals: number;
  expiredApprovals: number;
  /** What the day's language-model calls cost at list prices, US dollars; null when the agent did not say. */
  modelCostUsd: number | null;
  anomalies: { at: string; kind: string; detail: string }[];
  /** How many anomalies the day had when `anomalies` lists only the first of them. */
  anomaliesTotal?: number;
}

/** An email the agent set aside for a person instead of answering it: who sent it and its subject line, never its body. */
export interface ParkedEmail {
  /** The mailbox's id of the message: what the buttons name (not shown: it means nothing to a person). */
  messageId: string;
  /** The agent's reason code (`low_confidence`, `malformed_model_output`, …). */
  reason: string;
  /** ISO 8601: when it was set aside. */
  since: string;
  /** Its sender when the agent had read it, else null. */
  sender: string | null;
  /** Its subject as the agent kept it ('' when it had none); null (or absent) when the agent did not record it. */
  subject?: string | null;
  /** True when the assistant already had its one more try: only "I dealt with it" remains. */
  retried: boolean;
}

/** What a person can do with a set-aside email: say they dealt with it, or let the assistant try once more. */
export type ParkedEmailAction = 'handled' | 'retry';

export interface ClientGateway {
  /** The client's admins (lower-case addresses) from its config; empty for an unknown client. */
  admins(clientId: string): Promise<string[]>;
  /** Running or stopped (and why); with `options.stop`, also when and by whom the current stop began. */
  status(clientId: string, options?: StatusReadOptions): Promise<ClientStatusView>;
  /** Pending approvals, oldest first (expired ones a while after). */
  listApprovals(clientId: string): Promise<ApprovalSummary[]>;
  /** One approval with the whole draft and its context; null when the client has no such approval. */
  getApproval(clientId: string, approvalId: string): Promise<ApprovalDetail | null>;
  /** Decides; an edit is re-checked by the gate and hashed anew by the agent. not_found / conflict as FleetError. */
  decide(
    clientId: string,
    approvalId: string,
    decision: ApprovalDecision,
    by: string,
  ): Promise<DecisionOutcome>;
  /**
   * The kill switch, with the guarantees of `fleet kill` (token rejected, container stopped, persisted),
   * also when the agent is stopped already: then the outcome says so.
   */
  kill(clientId: string, reason: string, by: string): Promise<KillOutcome>;
  /**
   * Starts a stopped agent again, as `fleet revive` does, for a stop the client's own admins made: a stop
   * the agency made or joined (stop-rights.ts) is refused with FleetError `forbidden`, whoever asks from the
   * portal. `conflict` when the agent is not stopped or the account is closed; nothing changed then.
   */
  revive(clientId: string, reason: string, by: string): Promise<void>;
  supportRequests(clientId: string): Promise<SupportRequest[]>;
  /**
   * Approves or denies a pending support request. A deny that finds it approved meanwhile (another admin,
   * at the same moment) ends that access: the answer is then the ended grant, `approvedBy` set.
   */
  decideSupport(
    clientId: string,
    grantId: string,
    decision: 'approve' | 'deny',
    by: string,
  ): Promise<SupportRequest>;
  /**
   * Ends an approved grant before it expires (in the ops log as the admin): the member loses access at
   * once. not_found for a grant the client does not have; conflict when it is not active (already ended,
   * or still pending: that is decided, not ended).
   */
  endSupport(clientId: string, grantId: string, by: string): Promise<SupportRequest>;
  auditTimeline(clientId: string, filter: AuditFilter): Promise<AuditEvent[]>;
  /** Streams the client's whole audit log (or the range) to `sink`, without ending it. */
  exportAudit(
    clientId: string,
    format: 'csv' | 'jsonl',
    sink: NodeJS.WritableStream,
    range: { since?: Date; until?: Date },
    by: string,
  ): Promise<void>;
  /** The summary of one UTC day (`YYYY-MM-DD`). */
  dailySummary(clientId: string, date: string): Promise<DailySummary>;
  /** The emails the agent set aside for a person, oldest first; `limit`: the most it keeps (null: unknown). */
  parkedEmails(clientId: string): Promise<{ emails: ParkedEmail[]; limit: number | null }>;
  /**
   * Resolves one set-aside email (audited in the agent, in the ops log as the admin). `changed` is false
   * when it had been done already. not_found / conflict as FleetError.
   */
  resolveParkedEmail(clientId: string, messageId: string, action: ParkedEmailAction, by: string): Promise<{ changed: boolean }>;
  /** Records a portal event of the admin (sign-in, enrolment, sign-out) in the ops log. */
  recordAdminEvent(clientId: string, by: string, event: string): Promise<void>;
}
