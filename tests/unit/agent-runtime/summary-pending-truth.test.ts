// The daily summary's list of approvals waiting for the admins: every held action still waiting is in it,
// whatever the approval timeout is now and however its expiry was written, and a flood day is counted
// from the log as it streams.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import type { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import { auditRecord, summaryRange } from './summary-records.ts';

const HOUR = 3_600_000;

function at(timestamp: string, record: AuditRecord): AuditRecord {
  return { ...record, timestamp };
}

/** A summary over `records` whose audit log offers only what the real one streams: `records(range)`. */
function summaryOver(records: () => Iterable<AuditRecord>, approvalTimeoutHours: number): DailySummary {
  const config = { client: 'acme', timezone: 'UTC', approvalTimeoutHours } as unknown as ClientConfig;
  const audit = {
    async *records(range: { since: Date; until: Date }) {
      const since = range.since.toISOString();
      const until = range.until.toISOString();
      for (const record of records()) if (record.timestamp >= since && record.timestamp <= until) yield record;
    },
  } as unknown as AuditLog;
  const logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => logger } as never;
  return new DailySummary({ config, audit, notifier: {} as AdminNotifier, logger });
}

describe('approvals waiting for a decision', () => {
  test('one asked for under a longer timeout than today’s is still listed', async () => {
    const now = new Date('2026-05-10T08:00:00Z');
    // Asked five days ago with a week to decide; the timeout was lowered to a day since.
    const asked = at(
      new Date(now.getTime() - 5 * 24 * HOUR).toISOString(),
      auditRecord('approval_requested', { approval_id: 'ap_old', subject: 'Contract renewal', expires_at: new Date(now.getTime() + 2 * 24 * HOUR).toISOString() }, 'lead@newco.example'),
    );
    const report = await summaryOver(() => [asked], 24).report('day', now);
    assert.deepEqual(report.pendingApprovals.map((entry) => entry.id), ['ap_old']);
  });

  test('expiry is compared as an instant, and one whose expiry is not stated stays listed', () => {
    const ask = (id: string, expiresAt: string | undefined) =>
      auditRecord('approval_requested', { approval_id: id, subject: id, ...(expiresAt === undefined ? {} : { expires_at: expiresAt }) }, 'lead@newco.example');
    // The summary ends 2026-01-07T18:00Z.
    const records = [
      ask('ap_gone_offset', '2026-01-07T19:00:00+02:00'),
      ask('ap_open_offset', '2026-01-07T13:30:00-05:00'),
      ask('ap_open_no_fraction', '2026-01-07T18:00:01Z'),
      ask('ap_unknown_expiry', undefined),
      ask('ap_gone', '2026-01-07T17:59:59.999Z'),
    ];
    const report = buildSummaryReport(records, records, summaryRange);
    assert.deepEqual(report.pendingApprovals.map((entry) => entry.id).sort(), ['ap_open_no_fraction', 'ap_open_offset', 'ap_unknown_expiry']);
  });

  test('a decided or expired approval is not listed, in whatever order the records come', () => {
    const ask = auditRecord('approval_requested', { approval_id: 'ap_1', subject: 'x', expires_at: '2026-01-09T10:00:00.000Z' }, 'lead@newco.example');
    const decided = auditRecord('approval_decided', { approval_id: 'ap_1' });
    assert.deepEqual(buildSummaryReport([], [ask, decided], summaryRange).pendingApprovals, []);
    assert.deepEqual(buildSummaryReport([], [decided, ask], summaryRange).pendingApprovals, []);
  });
});

describe('a flood day', () => {
  test('is counted from the records as the log streams them', async () => {
    const now = new Date('2026-05-10T08:00:00Z');
    const reads = 20_000;
    function* flood(): Generator<AuditRecord> {
      for (let index = 0; index < reads; index++) {
        const timestamp = new Date(now.getTime() - 1 - (index % 20) * HOUR).toISOString();
        yield { ...auditRecord('email_read', {}), timestamp, result: 'success' } as AuditRecord;
      }
    }
    const report = await summaryOver(flood, 72).report('day', now);
    assert.equal(report.read, reads);
  });
});
