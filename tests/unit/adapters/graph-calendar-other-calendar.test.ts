// Graph finds an event by its id whichever calendar of the mailbox holds it, even under
// /me/calendar/events/{id}: the adapter reads and changes only events of the primary calendar.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { withGraphCalendarEvent } from '../../helpers/calendar-adapters-under-test.ts';

const forbidden = (error: unknown) => error instanceof FleetError && error.code === 'forbidden';

describe('GraphCalendarProvider and events of other calendars', () => {
  it('reads an event of the primary calendar', async () => {
    await withGraphCalendarEvent('other-calendar-1', async ({ calendar, id }) => {
      assert.equal((await calendar.getEvent(id))?.id, id);
    });
  });

  it('does not find an event the owner organised in another calendar of the mailbox', async () => {
    await withGraphCalendarEvent('other-calendar-1', async ({ calendar, emulator, id }) => {
      emulator.calendar.moveToOtherCalendar(id);
      assert.equal(await calendar.getEvent(id), null);
    });
  });

  it('refuses to update or cancel an event in another calendar, and nobody is notified', async () => {
    await withGraphCalendarEvent('other-calendar-1', async ({ calendar, emulator, id }) => {
      emulator.calendar.moveToOtherCalendar(id);
      await assert.rejects(calendar.updateEvent(id, { addAttendees: ['new@partner.example'] }), forbidden);
      await assert.rejects(calendar.cancelEvent(id, 'Called off'), forbidden);
      assert.deepEqual(emulator.calendar.changes(), []);
      assert.notEqual(emulator.calendar.event(id), undefined, 'the event is still there');
    });
  });
});
