import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { zonedTime } from '../../../agent-image/src/domain/zoned-time.ts';
import { nextWorkingDays } from '../../../agent-image/src/services/mail-loop/working-days.ts';

const WEEK = { start: '09:00', end: '17:00', days: [1, 2, 3, 4, 5] };

describe('next working days', () => {
  test('skip the weekend and start at the working hours of each day, in the client time zone', () => {
    // Friday 2026-11-20 18:00 in London: Friday is over, so Monday and Tuesday come next.
    const spans = nextWorkingDays(new Date('2026-11-20T18:00:00Z'), WEEK, 'Europe/London', 2);
    assert.deepEqual(
      spans.map((span) => [span.start.toISOString(), span.end.toISOString()]),
      [
        ['2026-11-23T09:00:00.000Z', '2026-11-23T17:00:00.000Z'],
        ['2026-11-24T09:00:00.000Z', '2026-11-24T17:00:00.000Z'],
      ],
    );
  });

  test('include the rest of today while its working hours last', () => {
    const now = new Date('2026-11-24T14:30:00Z'); // Tuesday 09:30 in New York
    const [today, tomorrow] = nextWorkingDays(now, WEEK, 'America/New_York', 2);
    assert.equal(today?.start.toISOString(), now.toISOString());
    assert.equal(today?.end.toISOString(), '2026-11-24T22:00:00.000Z');
    assert.equal(tomorrow?.start.toISOString(), '2026-11-25T14:00:00.000Z');
  });

  test('follow daylight-saving changes of the zone', () => {
    // London moves to BST on Sunday 2026-03-29: 09:00 local is 09:00Z on Friday, 08:00Z on Monday.
    const spans = nextWorkingDays(new Date('2026-03-27T06:00:00Z'), WEEK, 'Europe/London', 2);
    assert.equal(spans[0]?.start.toISOString(), '2026-03-27T09:00:00.000Z');
    assert.equal(spans[1]?.start.toISOString(), '2026-03-30T08:00:00.000Z');
  });

  test('honour a working week that is not Monday to Friday', () => {
    const spans = nextWorkingDays(new Date('2026-11-23T00:00:00Z'), { start: '10:00', end: '12:00', days: [6, 7] }, 'UTC', 3);
    assert.deepEqual(
      spans.map((span) => span.start.toISOString().slice(0, 10)),
      ['2026-11-28', '2026-11-29', '2026-12-05'],
    );
  });

  test('a local time in a zone east of UTC lands on the previous UTC day when early enough', () => {
    assert.equal(zonedTime({ year: 2026, month: 11, day: 24 }, 8 * 60, 'Asia/Tokyo').toISOString(), '2026-11-23T23:00:00.000Z');
  });
});
