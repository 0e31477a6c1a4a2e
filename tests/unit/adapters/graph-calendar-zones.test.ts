// Graph takes Windows zone names and a documented list of IANA names for an event's times; a client in a
// zone off that list (Europe/Madrid, America/Toronto) still gets its events, at the approved instant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphDateTime } from '../../../agent-image/src/adapters/graph/graph-calendar-event.ts';
import { graphCalendarUnderTest } from '../../helpers/calendar-adapters-under-test.ts';

const START = new Date('2030-07-01T08:00:00Z');
const END = new Date('2030-07-01T09:00:00Z');

describe('graph event zones', () => {
  it('names a documented zone, and UTC for a zone Graph does not document', () => {
    assert.deepEqual(graphDateTime(START, 'Europe/Paris'), { dateTime: '2030-07-01T10:00:00', timeZone: 'Europe/Paris' });
    assert.deepEqual(graphDateTime(START, 'Europe/Madrid'), { dateTime: '2030-07-01T08:00:00', timeZone: 'UTC' });
  });

  for (const zone of ['Europe/Madrid', 'America/Toronto', 'Europe/Zurich']) {
    it(`creates and moves an event for a client in ${zone} at the approved instants`, async () => {
      const { emulator, calendar } = await graphCalendarUnderTest();
      try {
        const created = await calendar.createEvent({ title: 'Sync', start: START, end: END, timeZone: zone, attendees: ['kim@partner.example'], idempotencyKey: `zone-${zone.replace('/', '-')}` });
        assert.equal(emulator.calendar.event(created.id)?.start.toISOString(), START.toISOString());
        const later = new Date('2030-07-02T13:00:00Z');
        await calendar.updateEvent(created.id, { start: later, end: new Date('2030-07-02T14:00:00Z'), timeZone: zone });
        assert.equal(emulator.calendar.event(created.id)?.start.toISOString(), later.toISOString());
      } finally {
        await emulator.stop();
      }
    });
  }
});
