// What the daily summary tests build a report from: acme's daily summary over one day, and audit records.
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';

/** The summary's heading facts: acme, daily, in UTC, with its portal. */
export const summaryMeta = { client: 'acme', displayName: 'Acme', period: 'day' as const, timezone: 'UTC', portalUrl: 'https://portal.acme.example' };

/** The day the summary covers. */
export const summaryRange = { from: new Date('2026-01-06T18:00:00Z'), to: new Date('2026-01-07T18:00:00Z') };

/** An audit record the agent wrote inside the range, still pending, with no hashes. */
export function auditRecord(action_type: string, parameters: AuditRecord['parameters'], target: string | null = null): AuditRecord {
  return {
    seq: 1,
    timestamp: '2026-01-07T10:00:00.000Z',
    action_type,
    actor: 'agent',
    target,
    parameters,
    approval_status: 'pending',
    approved_by: null,
    result: 'pending',
    content_hash: null,
    prev_hash: '',
    hash: '',
  } as unknown as AuditRecord;
}
