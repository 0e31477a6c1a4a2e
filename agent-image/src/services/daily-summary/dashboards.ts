import type { AuditRecord } from '../../domain/audit-record.ts';
import type { GraduationRow, TypeDecisions } from '../../domain/graduation.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';

const DAY_MS = 86_400_000;

/** Per local day of the client, oldest first: what the portal's charts draw. */
export interface DailySeries {
  timezone: string;
  /** Local dates, YYYY-MM-DD, one per day, the last one today. */
  days: string[];
  sent: number[];
  drafted: number[];
  approvalsRequested: number[];
  approvalsDecided: number[];
  /** Policy denials per day, by their first reason. */
  denials: Record<string, number[]>;
}

/** The local date (YYYY-MM-DD) of an instant in `zone`. */
function localDate(instant: Date, formatter: Intl.DateTimeFormat): string {
  return formatter.format(instant);
}

/** The `days` local dates ending today, oldest first. */
export function lastDays(now: Date, timezone: string, days: number): string[] {
  const today = localDate(now, new Intl.DateTimeFormat('en-CA', { timeZone: timezone }));
  const base = Date.parse(`${today}T12:00:00Z`);
  return Array.from({ length: days }, (_, index) => new Date(base - (days - 1 - index) * DAY_MS).toISOString().slice(0, 10));
}

/**
 * Sends, drafts, approvals asked and decided, and denials by reason, per local day of the client for the
 * last `days` days, counted from the audit log as the daily summary counts them.
 */
export async function dailySeries(audit: AuditLog, input: { timezone: string; now: Date; days: number }): Promise<DailySeries> {
  const days = lastDays(input.now, input.timezone, input.days);
  const index = new Map(days.map((day, position) => [day, position]));
  const zeros = () => days.map(() => 0);
  const series: DailySeries = { timezone: input.timezone, days, sent: zeros(), drafted: zeros(), approvalsRequested: zeros(), approvalsDecided: zeros(), denials: {} };
  const formatter = new Intl.DateTimeFormat('en-CA', { timeZone: input.timezone });
  // A day before the first local date covers every zone's offset; records outside the days are skipped.
  for await (const record of audit.records({ since: new Date(input.now.getTime() - (input.days + 1) * DAY_MS), until: input.now })) {
    const position = index.get(localDate(new Date(record.timestamp), formatter));
    if (position === undefined) continue;
    count(series, record, position, zeros);
  }
  return series;
}

function count(series: DailySeries, record: AuditRecord, position: number, zeros: () => number[]): void {
  const bump = (values: number[]) => {
    values[position] = (values[position] ?? 0) + 1;
  };
  switch (record.action_type) {
    case 'email_send':
      if (record.result === 'success' && record.actor !== 'system') bump(series.sent);
      break;
    case 'email_draft':
      if (record.result === 'success') bump(series.drafted);
      break;
    case 'approval_requested':
      bump(series.approvalsRequested);
      break;
    case 'approval_decided':
      bump(series.approvalsDecided);
      break;
    case 'policy_denied': {
      const reasons = record.parameters['reasons'];
      const first = Array.isArray(reasons) && typeof reasons[0] === 'string' ? reasons[0] : 'unknown';
      series.denials[first] ??= zeros();
      bump(series.denials[first]);
      break;
    }
    default:
      break;
  }
}

/** How the admins decided the approvals of each email type, from the whole audit log. */
export async function approvalDecisionsByType(audit: AuditLog): Promise<TypeDecisions[]> {
  const typeOf = new Map<string, string>();
  const counts = new Map<string, TypeDecisions>();
  const entry = (type: string) => {
    let found = counts.get(type);
    if (found === undefined) {
      found = { type, unchanged: 0, edited: 0, rejected: 0, expired: 0 };
      counts.set(type, found);
    }
    return found;
  };
  for await (const record of audit.records()) {
    const id = record.parameters['approval_id'];
    if (typeof id !== 'string') continue;
    if (record.action_type === 'approval_requested') {
      const type = record.parameters['email_type'];
      if (typeof type === 'string') typeOf.set(id, type);
      continue;
    }
    const type = typeOf.get(id);
    if (type === undefined) continue;
    if (record.action_type === 'approval_expired') entry(type).expired++;
    else if (record.action_type === 'approval_decided') {
      if (record.approval_status === 'approved') entry(type).unchanged++;
      else if (record.approval_status === 'edited') entry(type).edited++;
      else if (record.approval_status === 'rejected') entry(type).rejected++;
    }
  }
  return [...counts.values()];
}

/** What the portal's dashboards read of the agent (http/settings-routes.ts). */
export interface DashboardsAccess {
  /** The per-day series of the last `days` days. FleetError('unavailable') before the introduction. */
  dailySeries(days: number): Promise<DailySeries>;
  /** The approval decisions per email type with the graduation suggestions. */
  graduation(): Promise<GraduationRow[]>;
}
