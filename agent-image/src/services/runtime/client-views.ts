import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AuditRecord } from '../../domain/audit-record.ts';
import { SENT_MAIL_LABELS } from '../../ports/mail-provider.ts';
import { summaryForDate, type DaySummary } from '../daily-summary/summary-for-date.ts';
import { sendAdminNotice, type AdminNotice } from './admin-notices.ts';
import type { AdminNotifier, NotifyOutcome } from './admin-notifier.ts';
import { approvalView, threadOf, type ApprovalView } from './approval-view.ts';
import type { AgentStateStore } from './agent-state-store.ts';
import type { RuntimeApprovalDesk } from './approval-desk.ts';
import type { MailboxConnection } from './mailbox-connection.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';

/** The parts of the opened volume the views read. */
export interface ClientViewParts {
  desk: Pick<RuntimeApprovalDesk, 'approvalAsOf'>;
  connection: Pick<MailboxConnection, 'connectors' | 'memory'>;
  state: Pick<AgentStateStore, 'progress'>;
  audit: AuditLog;
  notifier: Pick<AdminNotifier, 'notify'>;
}

export interface AuditRecordQuery {
  /** Only these action types (all when empty). */
  types: readonly string[];
  since?: Date | undefined;
  until?: Date | undefined;
  /** At most this many, the newest. */
  limit: number;
}

/**
 * What the client's own admins see and receive through the orchestrator's portal: one approval with the
 * whole draft and its thread, the summary of a day, the audit records, and notices mailed to them.
 */
export interface ClientViews {
  /** One approval as of now. FleetError('not_found') for an unknown id. */
  approval(id: string): Promise<ApprovalView>;
  /** The summary of one local day (YYYY-MM-DD) of the client; invalid_input for a malformed or future date. */
  summary(date: string): Promise<DaySummary>;
  /** The newest `limit` records of the range (of the given types), newest first; memory bounded by `limit`. */
  auditRecords(query: AuditRecordQuery): Promise<AuditRecord[]>;
  /** Mails a notice to the client's admins (see AdminNotice); idempotent per approval or link. */
  sendAdminNotice(notice: AdminNotice): Promise<NotifyOutcome>;
}

export interface ClientViewsSource {
  /** The views over the opened volume; FleetError('unavailable') before the introduction. */
  clientViews(): ClientViews;
}

export class RuntimeClientViews implements ClientViews {
  private readonly agent: ClientViewParts;
  private readonly settings: () => ClientConfig;
  private readonly options: { now: () => Date; logger: Logger; portalUrl: string | undefined };

  /** `settings`: the current settings' document, read at each call. */
  constructor(agent: ClientViewParts, settings: () => ClientConfig, options: { now: () => Date; logger: Logger; portalUrl: string | undefined }) {
    this.agent = agent;
    this.settings = settings;
    this.options = options;
  }

  async approval(id: string): Promise<ApprovalView> {
    const entry = this.agent.desk.approvalAsOf(id);
    if (entry === undefined) throw new FleetError('not_found', `no approval ${id}`);
    const provider = this.agent.connection.connectors?.provider ?? null;
    const { mailbox, provider: providerKind } = this.settings();
    const { memory } = this.agent.connection;
    const thread = await threadOf(provider, entry.messageId, mailbox, SENT_MAIL_LABELS[providerKind], this.options.logger, (read) => memory.download(read));
    return approvalView(entry, entry.messageId === null ? undefined : this.agent.state.progress(entry.messageId), thread);
  }

  summary(date: string): Promise<DaySummary> {
    const { timezone, approvalTimeoutHours } = this.settings();
    return summaryForDate(
      { audit: this.agent.audit, timezone, approvalTimeoutHours, now: this.options.now() },
      date,
    );
  }

  async auditRecords(query: AuditRecordQuery): Promise<AuditRecord[]> {
    const types = new Set(query.types);
    const kept: AuditRecord[] = [];
    const range = { ...(query.since ? { since: query.since } : {}), ...(query.until ? { until: query.until } : {}) };
    for await (const record of this.agent.audit.records(range)) {
      if (types.size > 0 && !types.has(record.action_type)) continue;
      kept.push(record);
      if (kept.length > query.limit) kept.shift();
    }
    return kept.reverse();
  }

  sendAdminNotice(notice: AdminNotice): Promise<NotifyOutcome> {
    return sendAdminNotice(
      {
        config: this.settings(),
        notifier: this.agent.notifier,
        approval: (id) => this.agent.desk.approvalAsOf(id),
        portalUrl: this.options.portalUrl,
      },
      notice,
    );
  }
}
