import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { offsetAt, zonedTime } from '../../domain/zoned-time.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { reportFromAudit } from './report-from-audit.ts';
import type { SummaryReport } from './summary-report.ts';

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The offset of `zone` from UTC at `instant`, in ms (positive east of Greenwich). */
export function offsetMs(instant: number, zone: string): number {
  return offsetAt(instant, zone);
}

/**
 * The instant local midnight begins `date` (YYYY-MM-DD) in `zone`, DST-aware: where the clocks skip
 * midnight (00:00 to 01:00, as in Santiago or Havana) the day begins at the 01:00 that follows.
 */
export function localMidnight(date: string, zone: string): Date {
  const match = DATE.exec(date);
  const naive = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(naive) || new Date(naive).toISOString().slice(0, 10) !== date) {
    throw new FleetError('invalid_input', 'date must be a calendar date YYYY-MM-DD');
  }
  return zonedTime({ year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }, 0, zone);
}

export interface DaySummary {
  date: string;
  timezone: string;
  report: SummaryReport;
}

/**
 * The summary of one local calendar day of the client (up to now for today), from the audit log only,
 * with the same report builder as the emailed summary. A day in the future is invalid_input.
 */
export async function summaryForDate(
  input: { audit: AuditLog; timezone: string; approvalTimeoutHours: number; now: Date },
  date: string,
): Promise<DaySummary> {
  const from = localMidnight(date, input.timezone);
  if (from.getTime() > input.now.getTime()) throw new FleetError('invalid_input', 'date is in the future');
  const nextDay = new Date(Date.parse(`${date}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
  const to = new Date(Math.min(localMidnight(nextDay, input.timezone).getTime() - 1, input.now.getTime()));
  return { date, timezone: input.timezone, report: await reportFromAudit(input.audit, { from, to }, input.approvalTimeoutHours) };
}
