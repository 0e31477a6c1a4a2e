import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { DailySummary, sameLocalTimeDaysBefore } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import type { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';

const HOUR = 3_600_000;

function summaryIn(timezone: string): DailySummary {
  const config = { client: 'acme', timezone, approvalTimeoutHours: 24 } as unknown as ClientConfig;
  const audit = { async *records() {} } as unknown as AuditLog;
  const logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => logger } as never;
  return new DailySummary({ config, audit, notifier: {} as AdminNotifier, logger });
}

describe('the daily summary covers the local day since the last one, across DST changes', () => {
  test('spring forward: the day since yesterday 08:00 is 23 hours, and no hour is counted twice', async () => {
    // 2027-03-14 08:00 EDT; yesterday's summary went at 2027-03-13 08:00 EST (13:00Z).
    const report = await summaryIn('America/New_York').report('day', new Date('2027-03-14T12:00:00Z'));
    assert.equal(report.from, '2027-03-13T13:00:00.000Z');
    assert.equal(Date.parse(report.to) - Date.parse(report.from), 23 * HOUR);
  });

  test('fall back: the day since yesterday 08:00 is 25 hours, and no hour is left out', async () => {
    // 2027-11-07 08:00 EST; yesterday's summary went at 2027-11-06 08:00 EDT (12:00Z).
    const report = await summaryIn('America/New_York').report('day', new Date('2027-11-07T13:00:00Z'));
    assert.equal(report.from, '2027-11-06T12:00:00.000Z');
    assert.equal(Date.parse(report.to) - Date.parse(report.from), 25 * HOUR);
  });

  test('the weekly digest spans seven local days; an ordinary day is 24 hours', () => {
    assert.equal(sameLocalTimeDaysBefore(new Date('2027-03-29T07:00:00Z'), 7, 'Europe/Berlin').toISOString(), '2027-03-22T08:00:00.000Z');
    assert.equal(sameLocalTimeDaysBefore(new Date('2027-06-10T07:00:00Z'), 1, 'Europe/Berlin').toISOString(), '2027-06-09T07:00:00.000Z');
    assert.equal(sameLocalTimeDaysBefore(new Date('2027-06-10T07:00:00Z'), 1, 'UTC').toISOString(), '2027-06-09T07:00:00.000Z');
    assert.equal(sameLocalTimeDaysBefore(new Date('2027-10-03T04:00:00Z'), 1, 'Australia/Lord_Howe').toISOString(), '2027-10-02T04:30:00.000Z', 'a half-hour shift');
  });
});
