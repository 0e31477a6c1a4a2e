import { Cron } from 'croner';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { AuditRecord } from '../../domain/audit-record.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import type { AdminNotifier, NotifyOutcome, SystemMailKind } from '../runtime/admin-notifier.ts';
import { renderSummaryHtml, renderSummaryText, summarySubject, type SummaryMeta } from './render-summary.ts';
import { reportFromAudit } from './report-from-audit.ts';
import { offsetMs } from './summary-for-date.ts';
import type { SummaryReport } from './summary-report.ts';

const DAY_MS = 86_400_000;

/** Where a summary run failed: reading the audit log, rendering the email, or handing it to the outbox. */
export type SummaryStage = 'read' | 'render' | 'send';

/** Counts the summaries that failed (AgentMetrics.dailySummaryFailed, agent_daily_digest_failures_total). */
export interface SummaryFailureMetrics {
  dailySummaryFailed(stage: SummaryStage): void;
}

export interface DailySummaryOptions {
  config: ClientConfig;
  audit: AuditLog;
  notifier: Pick<AdminNotifier, 'notify' | 'alreadyInOutbox'>;
  logger: Logger;
  now?: () => Date;
  /** The assistant's pause now (null: working), stated in each summary; leave out where it is not known. */
  pauseState?: () => SummaryMeta['pause'];
  /** The client portal's origin (AGENT_PORTAL_URL), for the links to pending approvals. */
  portalUrl?: string | undefined;
  /** Counts the scheduled runs that failed, for the alert; leave out where there is no registry. */
  metrics?: SummaryFailureMetrics | undefined;
}

/**
 * The instant `days` local days before `at` at the same local wall time: the previous summary's time.
 * Across a DST change the period is the local day (23 or 25 hours), so an hour is neither left out of
 * both summaries nor counted in both.
 */
export function sameLocalTimeDaysBefore(at: Date, days: number, timezone: string): Date {
  const naive = at.getTime() - days * DAY_MS;
  const wanted = offsetMs(at.getTime(), timezone);
  const first = naive + wanted - offsetMs(naive, timezone);
  return new Date(naive + wanted - offsetMs(first, timezone));
}

/** How far back the last daily summary sent still starts the next one's period. */
const PREVIOUS_SUMMARY_WINDOW_MS = 2 * DAY_MS;

/** The ISO bounds within which a daily summary sent still starts the next period ending at `at`. */
function previousSummaryWindow(at: Date): { since: string; until: string } {
  return { since: new Date(at.getTime() - PREVIOUS_SUMMARY_WINDOW_MS).toISOString(), until: at.toISOString() };
}

function isSummarySentIn(record: AuditRecord, window: { since: string; until: string }): boolean {
  if (record.action_type !== 'email_send' || record.actor !== 'system' || record.result !== 'intended') return false;
  return record.parameters['kind'] === 'daily_summary' && record.timestamp >= window.since && record.timestamp < window.until;
}

/** What came of a summary run: `already_sent` when the summary of that local date went before. */
export interface SummarySendResult {
  outcome: NotifyOutcome | 'already_sent';
  report: SummaryReport;
  text: string;
  html: string;
}

/**
 * Emails the client's admins a summary rendered from the audit log at the configured local time, and
 * during onboarding also a weekly digest (Mondays, same time). Each is sent at most once per local date.
 */
export class DailySummary {
  private readonly options: DailySummaryOptions;
  private readonly now: () => Date;
  private readonly jobs: Cron[] = [];
  private started = false;

  constructor(options: DailySummaryOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
  }

  start(): void {
    this.started = true;
    const { config } = this.options;
    if (!config.dailySummary.enabled || this.jobs.length > 0) return;
    const [hours, minutes] = config.dailySummary.at.split(':');
    const run = (period: 'day' | 'week') => () => void this.run(period);
    this.jobs.push(new Cron(`${Number(minutes)} ${Number(hours)} * * *`, { timezone: config.timezone }, run('day')));
    this.jobs.push(
      new Cron(`${Number(minutes)} ${Number(hours)} * * 1`, { timezone: config.timezone }, () => {
        if (this.inOnboarding(this.now())) run('week')();
      }),
    );
  }

  stop(): void {
    this.started = false;
    for (const job of this.jobs.splice(0)) job.stop();
  }

  /** After a settings change (time, zone, on/off): a started schedule starts again from the new settings. */
  reschedule(): void {
    if (!this.started) return;
    this.stop();
    this.start();
  }

  /** When the next daily summary is due, or null when disabled. */
  nextRun(): Date | null {
    return this.jobs[0]?.nextRun() ?? null;
  }

  /** The report of the period ending now, from the audit log only. */
  async report(period: 'day' | 'week', at: Date = this.now()): Promise<SummaryReport> {
    const { audit, config } = this.options;
    const usual = sameLocalTimeDaysBefore(at, period === 'day' ? 1 : 7, config.timezone);
    const previous = period === 'day' ? await this.previousSummary(at) : undefined;
    const from = previous === undefined || previous.getTime() >= usual.getTime() ? usual : previous;
    return reportFromAudit(audit, { from, to: at }, config.approvalTimeoutHours);
  }

  /**
   * When the last daily summary before `at` went to the outbox (its audit record), within the window. After
   * the summary time or zone moved later, the local day before `at` starts after that summary's period ended:
   * the hours between belong to no summary unless the next period starts there.
   */
  private async previousSummary(at: Date): Promise<Date | undefined> {
    const window = previousSummaryWindow(at);
    let last: string | undefined;
    for await (const record of this.options.audit.records({ since: new Date(window.since), until: at })) {
      if (isSummarySentIn(record, window) && (last === undefined || record.timestamp > last)) last = record.timestamp;
    }
    return last === undefined ? undefined : new Date(last);
  }

  /**
   * A scheduled run: `send`, with a failure handled here, since nothing waits on the schedule to hear of
   * it. Logged once at error with the stage that failed and counted, so that the alert fires; null then.
   * A summary the outbox held for a human counts as failed at `send` too (its result is still returned).
   */
  async run(period: 'day' | 'week'): Promise<SummarySendResult | null> {
    const progress: { stage: SummaryStage } = { stage: 'read' };
    try {
      const result = await this.attempt(period, progress);
      if (result.outcome === 'held') {
        // In the outbox but not sent: the admins have no summary until someone releases it, as after a failure.
        this.options.logger.error('daily summary held in the outbox for a human; not sent', { period, stage: 'send', code: 'held' });
        this.options.metrics?.dailySummaryFailed('send');
      }
      return result;
    } catch (error) {
      const code = isFleetError(error) ? error.code : 'internal';
      this.options.logger.error('daily summary not sent', { period, stage: progress.stage, code, error });
      this.options.metrics?.dailySummaryFailed(progress.stage);
      return null;
    }
  }

  /**
   * Renders and sends the summary of the period ending now; once per local date and period. A second run
   * on the same local date (the summary time moved later, a repeated wall-clock hour) is `already_sent`:
   * logged at info, since nothing failed and nothing went twice. Throws what failed (`run` reports it).
   */
  send(period: 'day' | 'week'): Promise<SummarySendResult> {
    return this.attempt(period, { stage: 'read' });
  }

  private async attempt(period: 'day' | 'week', progress: { stage: SummaryStage }): Promise<SummarySendResult> {
    const { config, notifier } = this.options;
    const at = this.now();
    progress.stage = 'read';
    const report = await this.report(period, at);
    progress.stage = 'render';
    const meta: SummaryMeta = {
      client: config.client,
      displayName: config.displayName ?? config.client,
      period,
      timezone: config.timezone,
      freeTextOptIns: config.autoReply.freeTextAutoSend,
      portalUrl: this.options.portalUrl,
      pause: this.options.pauseState?.(),
    };
    const text = renderSummaryText(report, meta);
    const html = renderSummaryHtml(report, meta);
    const subject = summarySubject(report, meta);
    progress.stage = 'send';
    const localDate = new Intl.DateTimeFormat('en-CA', { timeZone: config.timezone }).format(at);
    const kind: SystemMailKind = period === 'day' ? 'daily_summary' : 'weekly_digest';
    const alreadySent = (): SummarySendResult => {
      this.options.logger.info('summary already sent for this local date; not sent again', { period, date: localDate });
      return { outcome: 'already_sent', report, text, html };
    };
    if (notifier.alreadyInOutbox(kind, localDate)) return alreadySent();
    try {
      const outcome = await notifier.notify(kind, localDate, subject, text, html);
      return { outcome, report, text, html };
    } catch (error) {
      // Another run of the same date got to the outbox first: its refusal of a different summary under the
      // same key is that run's success, not a failure of this one.
      if (isFleetError(error) && error.code === 'conflict' && notifier.alreadyInOutbox(kind, localDate)) return alreadySent();
      throw error;
    }
  }

  private inOnboarding(at: Date): boolean {
    const started = this.options.config.onboarding.startedAt;
    if (started === undefined) return true;
    return at.getTime() < Date.parse(started) + this.options.config.onboarding.days * DAY_MS;
  }
}
