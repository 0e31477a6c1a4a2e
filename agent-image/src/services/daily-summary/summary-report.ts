import type { AuditRecord } from '../../domain/audit-record.ts';

/**
 * The content of a daily summary or weekly digest, computed from audit records only (never from live
 * state), so that what the admins read is what the tamper-evident log says.
 */
export interface SummaryReport {
  from: string;
  to: string;
  read: number;
  drafted: number;
  /** Client mail sent by the agent (not its own alerts and summaries). */
  sent: number;
  /** Writes to the client's CRM that changed it (notes of sent emails, last-contact dates). */
  crmUpdates: number;
  /** Calendar events the agent created (scheduling confirmations). */
  calendarEvents: number;
  /** Policy denials (blocked actions). */
  blocked: number;
  blockedReasons: Record<string, number>;
  /**
   * `action`: the held action's kind when it is not an email (`calendar.write`, `mail.move`, ...), with the
   * calendar `operation`; absent for an email.
   */
  pendingApprovals: { id: string; recipients: string; subject: string; expiresAt: string; action?: string; operation?: string }[];
  /** The first `REPORT_LIST_LIMIT` approvals that expired in the period; `expiredApprovalsTotal` counts them all. */
  expiredApprovals: { id: string; at: string }[];
  /** Every approval that expired in the period. */
  expiredApprovalsTotal: number;
  decidedApprovals: number;
  /** The first `REPORT_LIST_LIMIT` anomalies of the period; `anomaliesTotal` counts them all. */
  anomalies: { at: string; kind: string; detail: string }[];
  /** Every anomaly of the period. */
  anomaliesTotal: number;
  /**
   * The anomalies by kind and detail, with how often and when first and last: what the summary lists. At
   * most `REPORT_LIST_LIMIT` groups, the first seen; anomalies of any other group count in the total only.
   */
  anomalyGroups: AnomalyGroup[];
  reviewQueued: number;
  /**
   * Known contacts' addresses on mail the provider did not authenticate (SPF/DKIM/DMARC): forged, or the
   * contact's mail setup is broken. Never auto-answered. One entry per address, with how often and why.
   */
  unauthenticatedKnownSenders: { sender: string; count: number; reasons: string[] }[];
  /** Messages read that tried to steer the assistant (injection signals); never auto-answered. */
  injectionSignalMessages: number;
  /**
   * Settings versions made in the period: by whom, and the guard rails each crossed (ending
   * draft-review-send early, limits above the defaults, approval turned off for a sensitive type, a
   * free-text opt-in), which the summary flags.
   */
  settingsChanges: { at: string; version: number; by: string; guardRails: string[] }[];
  llm: { calls: number; inputTokens: number; outputTokens: number; costUsd: number; costPerEmailUsd: number | null };
}

/** Anomalies of one kind and detail. */
export interface AnomalyGroup {
  kind: string;
  detail: string;
  count: number;
  first: string;
  last: string;
}

/**
 * How many entries a report keeps of each list that grows with the records of a flood (expired approvals,
 * anomalies, their groups); the totals still count every one. A day of 300,000 rate-limit hits must not
 * make a report of 70 MB that the summary, the portal and the control API each hold and copy.
 */
export const REPORT_LIST_LIMIT = 100;

const ANOMALY_TYPES = new Set(['pause', 'resume', 'auth_failure', 'kill', 'quarantine']);

/**
 * `periodRecords`: the records of the period; `lookbackRecords`: records far enough back to hold every
 * approval that can still be pending (the approval timeout), used only for the pending list.
 */
export function buildSummaryReport(
  periodRecords: Iterable<AuditRecord>,
  lookbackRecords: Iterable<AuditRecord>,
  range: { from: Date; to: Date },
): SummaryReport {
  const tally = new SummaryTally(range);
  for (const record of periodRecords) tally.addPeriodRecord(record);
  for (const record of lookbackRecords) tally.addLookbackRecord(record);
  return tally.finish();
}

/**
 * A summary report built one record at a time, so that a flood of records is counted as it streams from
 * the audit log instead of being held in memory first. What it keeps grows with the approvals still open
 * and the known contacts' addresses, never with the records read: anomalies and expired approvals are
 * counted, and kept only up to `REPORT_LIST_LIMIT`.
 */
export class SummaryTally {
  private readonly report: SummaryReport;
  private readonly to: Date;
  // By address: a flood of forged mail from many known contacts' addresses must cost one look-up each.
  private readonly unauthenticated = new Map<string, SummaryReport['unauthenticatedKnownSenders'][number]>();
  private readonly requested = new Map<string, SummaryReport['pendingApprovals'][number]>();
  private readonly closed = new Set<string>();
  private readonly anomalyGroups = new Map<string, AnomalyGroup>();

  constructor(range: { from: Date; to: Date }) {
    this.to = range.to;
    this.report = {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      read: 0,
      drafted: 0,
      sent: 0,
      crmUpdates: 0,
      calendarEvents: 0,
      blocked: 0,
      blockedReasons: {},
      pendingApprovals: [],
      expiredApprovals: [],
      expiredApprovalsTotal: 0,
      decidedApprovals: 0,
      anomalies: [],
      anomaliesTotal: 0,
      anomalyGroups: [],
      reviewQueued: 0,
      unauthenticatedKnownSenders: [],
      injectionSignalMessages: 0,
      settingsChanges: [],
      llm: { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, costPerEmailUsd: null },
    };
  }

  /** Counts a record of the period itself. */
  addPeriodRecord(record: AuditRecord): void {
    const { report } = this;
    const parameters = record.parameters;
    switch (record.action_type) {
      case 'email_read':
        if (record.result !== 'success') break;
        report.read++;
        noteInbound(report, this.unauthenticated, parameters);
        break;
      case 'email_draft':
        if (record.result === 'success') report.drafted++;
        break;
      case 'email_send':
        if (record.result === 'success' && record.actor !== 'system') report.sent++;
        break;
      case 'crm_write':
        // A last-contact date the CRM already showed (or derives itself) changed nothing.
        if (record.result === 'success' && !(parameters['operation'] === 'update_last_contact' && parameters['written'] !== true)) report.crmUpdates++;
        break;
      case 'calendar_write':
        if (record.result === 'success' && parameters['existing'] !== true) report.calendarEvents++;
        break;
      case 'policy_denied': {
        report.blocked++;
        const reasons = Array.isArray(parameters['reasons']) ? parameters['reasons'] : [];
        const first = typeof reasons[0] === 'string' ? reasons[0] : 'unknown';
        report.blockedReasons[first] = (report.blockedReasons[first] ?? 0) + 1;
        if (first === 'rate_limit_hour' || first === 'rate_limit_day') this.addAnomaly({ at: record.timestamp, kind: 'rate_limit', detail: first });
        break;
      }
      case 'approval_expired':
        report.expiredApprovalsTotal++;
        if (report.expiredApprovals.length < REPORT_LIST_LIMIT) {
          report.expiredApprovals.push({ id: String(parameters['approval_id'] ?? record.target ?? '?'), at: record.timestamp });
        }
        break;
      case 'approval_decided':
        report.decidedApprovals++;
        break;
      case 'review_queued':
        report.reviewQueued++;
        break;
      case 'config_change':
        if (typeof parameters['settings_version'] === 'number') {
          const rails = Array.isArray(parameters['guard_rails']) ? parameters['guard_rails'].filter((rail) => typeof rail === 'string') : [];
          report.settingsChanges.push({ at: record.timestamp, version: parameters['settings_version'], by: record.actor, guardRails: rails });
        }
        break;
      case 'llm_call':
        report.llm.calls++;
        report.llm.inputTokens += numberOf(parameters['input_tokens']);
        report.llm.outputTokens += numberOf(parameters['output_tokens']);
        report.llm.costUsd += numberOf(parameters['cost_usd']);
        break;
      default:
        if (ANOMALY_TYPES.has(record.action_type)) {
          const reason = parameters['reason'];
          this.addAnomaly({ at: record.timestamp, kind: record.action_type, detail: typeof reason === 'string' ? reason : (record.target ?? '') });
        }
    }
  }

  private addAnomaly(anomaly: SummaryReport['anomalies'][number]): void {
    const { report } = this;
    report.anomaliesTotal++;
    if (report.anomalies.length < REPORT_LIST_LIMIT) report.anomalies.push(anomaly);
    const key = `${anomaly.kind}\u0000${anomaly.detail}`;
    const group = this.anomalyGroups.get(key);
    if (group !== undefined) {
      group.count++;
      if (anomaly.at < group.first) group.first = anomaly.at;
      if (anomaly.at > group.last) group.last = anomaly.at;
    } else if (this.anomalyGroups.size < REPORT_LIST_LIMIT) {
      const added = { kind: anomaly.kind, detail: anomaly.detail, count: 1, first: anomaly.at, last: anomaly.at };
      this.anomalyGroups.set(key, added);
      report.anomalyGroups.push(added);
    }
  }

  /** Notes a record of the lookback (the period included) for the approvals still pending at the end. */
  addLookbackRecord(record: AuditRecord): void {
    const id = record.parameters['approval_id'];
    if (typeof id !== 'string') return;
    if (record.action_type === 'approval_requested') {
      const kind = record.parameters['kind'];
      const operation = record.parameters['operation'];
      this.requested.set(id, {
        id,
        recipients: record.target ?? '',
        subject: typeof record.parameters['subject'] === 'string' ? record.parameters['subject'] : '',
        expiresAt: typeof record.parameters['expires_at'] === 'string' ? record.parameters['expires_at'] : '',
        ...(typeof kind === 'string' && kind !== 'mail.send' ? { action: kind } : {}),
        ...(typeof operation === 'string' ? { operation } : {}),
      });
    } else if (record.action_type === 'approval_decided' || record.action_type === 'approval_expired') {
      this.closed.add(id);
      // A closed approval is never listed again: forgetting it keeps a long lookback's memory to the open ones.
      this.requested.delete(id);
    }
  }

  finish(): SummaryReport {
    const { report } = this;
    report.llm.costUsd = Math.round(report.llm.costUsd * 1_000_000) / 1_000_000;
    report.llm.costPerEmailUsd = report.read === 0 ? null : Math.round((report.llm.costUsd / report.read) * 1_000_000) / 1_000_000;
    report.pendingApprovals = [...this.requested.values()].filter((entry) => !this.closed.has(entry.id) && stillOpenAt(entry.expiresAt, this.to));
    return report;
  }
}

/**
 * Whether an approval expiring at `expiresAt` can still be decided at `at`. Compared as instants, not as
 * strings (an offset or a missing fraction sorts wrongly as text); an expiry the record does not state
 * keeps the approval listed, since hiding a held action from the admins is the worse mistake.
 */
function stillOpenAt(expiresAt: string, at: Date): boolean {
  const expires = Date.parse(expiresAt);
  return Number.isNaN(expires) || expires > at.getTime();
}

/** Counts what the read record says about its sender and content (inbound-facts.ts). */
function noteInbound(
  report: SummaryReport,
  unauthenticated: Map<string, SummaryReport['unauthenticatedKnownSenders'][number]>,
  parameters: AuditRecord['parameters'],
): void {
  const signals = parameters['injection_signals'];
  if (Array.isArray(signals) && signals.length > 0) report.injectionSignalMessages++;
  const answerable = parameters['no_reply'] === null || parameters['no_reply'] === undefined;
  if (!answerable || parameters['known_contact'] !== true || parameters['sender_authenticated'] !== false) return;
  const sender = typeof parameters['sender'] === 'string' ? parameters['sender'] : '?';
  const reason = typeof parameters['sender_auth_reason'] === 'string' ? parameters['sender_auth_reason'] : 'unknown';
  const entry = unauthenticated.get(sender);
  if (entry === undefined) {
    const added = { sender, count: 1, reasons: [reason] };
    unauthenticated.set(sender, added);
    report.unauthenticatedKnownSenders.push(added);
  } else {
    entry.count++;
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
  }
}

function numberOf(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
