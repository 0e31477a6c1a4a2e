// A local day of the client is 23, 24 or 25 hours and begins when its local date begins, also where the
// clocks skip midnight itself (Santiago, Havana: 00:00 jumps to 01:00), east and west of Greenwich alike.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zonedTime } from '../../../agent-image/src/domain/zoned-time.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import {
  localMidnight,
  summaryForDate,
} from '../../../agent-image/src/services/daily-summary/summary-for-date.ts';

const HOUR = 3_600_000;
const emptyAudit = { async *records() {} } as unknown as AuditLog;

async function dayOf(date: string, timezone: string) {
  const { report } = await summaryForDate(
    { audit: emptyAudit, timezone, approvalTimeoutHours: 24, now: new Date('2030-01-01T00:00:00Z') },
    date,
  );
  return { from: report.from, hours: (Date.parse(report.to) + 1 - Date.parse(report.from)) / HOUR };
}

describe('the local days of the summary', () => {
  test('where the clocks skip midnight, the day begins at the 01:00 that follows, not an hour into the day before', () => {
    assert.equal(localMidnight('2026-09-06', 'America/Santiago').toISOString(), '2026-09-06T04:00:00.000Z');
    assert.equal(localMidnight('2026-03-08', 'America/Havana').toISOString(), '2026-03-08T05:00:00.000Z');
    assert.equal(
      localMidnight('2026-03-29', 'Asia/Beirut').toISOString(),
      '2026-03-28T22:00:00.000Z',
      'east of Greenwich',
    );
  });

  test('the day before a skipped midnight ends where the next begins: no hour is in two days', async () => {
    const before = await dayOf('2026-09-05', 'America/Santiago');
    const skipped = await dayOf('2026-09-06', 'America/Santiago');
    assert.equal(Date.parse(before.from) + before.hours * HOUR, Date.parse(skipped.from));
    assert.equal(before.hours, 24);
    assert.equal(skipped.hours, 23);
  });

  test('a spring-forward day is 23 hours and a fall-back day 25', async () => {
    assert.deepEqual(await dayOf('2026-03-08', 'America/New_York'), {
      from: '2026-03-08T05:00:00.000Z',
      hours: 23,
    });
    assert.deepEqual(await dayOf('2026-11-01', 'America/New_York'), {
      from: '2026-11-01T04:00:00.000Z',
      hours: 25,
    });
    assert.deepEqual(await dayOf('2026-10-25', 'Europe/London'), {
      from: '2026-10-24T23:00:00.000Z',
      hours: 25,
    });
    assert.deepEqual(await dayOf('2026-10-04', 'Australia/Lord_Howe'), {
      from: '2026-10-03T13:30:00.000Z',
      hours: 23.5,
    });
  });
});

describe('a wall-clock time the clocks skip or repeat', () => {
  const on = (year: number, month: number, day: number) => ({ year, month, day });

  test('a skipped time lands after the gap, east and west of Greenwich', () => {
    assert.equal(
      zonedTime(on(2026, 3, 8), 150, 'America/New_York').toISOString(),
      '2026-03-08T07:30:00.000Z',
      '02:30 is 03:30 EDT',
    );
    assert.equal(
      zonedTime(on(2026, 3, 29), 150, 'Europe/Berlin').toISOString(),
      '2026-03-29T01:30:00.000Z',
      '02:30 is 03:30 CEST',
    );
  });

  test('a repeated time is the first of the two, east and west of Greenwich', () => {
    assert.equal(
      zonedTime(on(2026, 11, 1), 90, 'America/New_York').toISOString(),
      '2026-11-01T05:30:00.000Z',
      '01:30 EDT',
    );
    assert.equal(
      zonedTime(on(2026, 10, 25), 90, 'Europe/London').toISOString(),
      '2026-10-25T00:30:00.000Z',
      '01:30 BST',
    );
  });
});
