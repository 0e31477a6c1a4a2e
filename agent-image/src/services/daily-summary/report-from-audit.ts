import { MAX_APPROVAL_TIMEOUT_HOURS } from '@agent-fleet/kernel/client-config';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { SummaryTally, type SummaryReport } from './summary-report.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * From when the audit log can hold an approval still pending at `at`, with a day's margin for clock skew.
 * As far back as the longest timeout the config allows: an approval asked for under a longer timeout than
 * today's (the setting lowered since) is still waiting.
 */
export function pendingLookbackStart(at: Date, approvalTimeoutHours: number): Date {
  const hours = Math.max(approvalTimeoutHours, MAX_APPROVAL_TIMEOUT_HOURS);
  return new Date(at.getTime() - hours * HOUR_MS - DAY_MS);
}

/**
 * The report of `range` from the audit log, with every approval still pending at its end. The records
 * stream through a tally: a flood day is counted, never held in memory whole.
 */
export async function reportFromAudit(audit: Pick<AuditLog, 'records'>, range: { from: Date; to: Date }, approvalTimeoutHours: number): Promise<SummaryReport> {
  const since = new Date(Math.min(range.from.getTime(), pendingLookbackStart(range.to, approvalTimeoutHours).getTime()));
  const tally = new SummaryTally(range);
  const fromIso = range.from.toISOString();
  for await (const record of audit.records({ since, until: range.to })) {
    tally.addLookbackRecord(record);
    if (record.timestamp >= fromIso) tally.addPeriodRecord(record);
  }
  return tally.finish();
}
