// The daily summary's period after its time or time zone moved: every hour belongs to some summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import type { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';

function record(timestamp: string, action_type: string, actor: string, parameters: AuditRecord['parameters'], result: string): AuditRecord {
  return { seq: 1, timestamp, action_type, actor, target: null, parameters, approval_status: 'not_required', approved_by: null, result, content_hash: null, prev_hash: '', hash: '' } as unknown as AuditRecord;
}

function summaryOver(records: AuditRecord[], timezone = 'UTC'): DailySummary {
  const config = { client: 'acme', timezone, approvalTimeoutHours: 24 } as unknown as ClientConfig;
  const audit = {
    async *records(range: { since: Date; until: Date }) {
      yield* records.filter((entry) => entry.timestamp >= range.since.toISOString() && entry.timestamp <= range.until.toISOString());
    },
  } as unknown as AuditLog;
  const logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => logger } as never;
  return new DailySummary({ config, audit, notifier: {} as AdminNotifier, logger });
}

const summarySent = (at: string) => record(at, 'email_send', 'system', { kind: 'daily_summary', subject: 'Daily summary' }, 'intended');
const mailRead = (at: string) => record(at, 'email_read', 'agent', {}, 'success');

void test('moved later (09:00 to 17:00): the next summary starts where the last one ended, so the hours between are reported', async () => {
  const records = [summarySent('2026-05-04T09:00:00.400Z'), mailRead('2026-05-04T12:00:00.000Z'), mailRead('2026-05-05T10:00:00.000Z')];
  const report = await summaryOver(records).report('day', new Date('2026-05-05T17:00:00Z'));
  assert.equal(report.from, '2026-05-04T09:00:00.400Z');
  assert.equal(report.read, 2, 'the read at 12:00 on the day of the change is in this summary');
});

void test('an ordinary day, and a summary time moved earlier, keep the local day since the usual time', async () => {
  const records = [summarySent('2026-05-04T17:00:00.400Z'), mailRead('2026-05-04T17:00:00.200Z'), mailRead('2026-05-05T08:00:00.000Z')];
  const ordinary = await summaryOver(records).report('day', new Date('2026-05-05T17:00:00Z'));
  assert.equal(ordinary.from, '2026-05-04T17:00:00.000Z', 'the record written while the last one was made is not left out');
  assert.equal(ordinary.read, 2);
  const earlier = await summaryOver(records).report('day', new Date('2026-05-05T09:00:00Z'));
  assert.equal(earlier.from, '2026-05-04T09:00:00.000Z');
});

void test('a summary older than two days (summaries were off) does not stretch the period', async () => {
  const report = await summaryOver([summarySent('2026-05-01T09:00:00.400Z')]).report('day', new Date('2026-05-05T09:00:00Z'));
  assert.equal(report.from, '2026-05-04T09:00:00.000Z');
});
