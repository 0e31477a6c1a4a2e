// Google answers an all-day event's start and end as dates, not instants. The adapter reads them in the
// mailbox owner's zone, as the Graph adapter does: an event the runtime decides on, and an approver is
// shown, covers that day where the owner lives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { googleEventInstant, toEventDetails } from '../../../agent-image/src/adapters/google-calendar/google-calendar-event.ts';

describe('google calendar all-day events', () => {
  it('a day off in Sydney runs from its midnight to the next there, not from 11:00', () => {
    const details = toEventDetails(
      { id: 'e1', status: 'confirmed', summary: 'Day off', start: { date: '2030-03-04' }, end: { date: '2030-03-05' }, organizer: { self: true } },
      'Australia/Sydney',
    );
    assert.equal(details.start.toISOString(), '2030-03-03T13:00:00.000Z');
    assert.equal(details.end.toISOString(), '2030-03-04T13:00:00.000Z');
  });

  it('a day on which the clocks change is that day, 23 or 25 hours long', () => {
    const start = googleEventInstant({ date: '2026-10-25' }, 'event start', 'Europe/Berlin');
    const end = googleEventInstant({ date: '2026-10-26' }, 'event end', 'Europe/Berlin');
    assert.equal(start.toISOString(), '2026-10-24T22:00:00.000Z');
    assert.equal(end.getTime() - start.getTime(), 25 * 3_600_000);
  });

  it('a timed event is the instant its offset names, whatever the owner zone', () => {
    assert.equal(googleEventInstant({ dateTime: '2030-03-04T10:00:00+01:00', timeZone: 'Europe/Berlin' }, 'event start', 'Australia/Sydney').toISOString(), '2030-03-04T09:00:00.000Z');
  });

  it('a malformed date is an integrity failure, not a guess', () => {
    assert.throws(() => googleEventInstant({ date: '2030-02-30' }, 'event start', 'UTC'), /valid event start/);
    assert.throws(() => googleEventInstant({}, 'event start', 'UTC'), /valid event start/);
  });
});
