// Graph finds an event by its id whichever calendar of the mailbox holds it, even under
// /me/calendar/events/{id}: the adapter reads and changes only events of the primary calendar.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GraphCalendarProvider } from '../../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { graphTokenSource } from '../../helpers/oauth-tokens.ts';

const PERMISSIONS = { 'calendar.read': true, 'calendar.write': true };

async function withCalendar(run: (calendar: GraphCalendarProvider, emulator: GraphEmulator, id: string) => Promise<void>): Promise<void> {
  const emulator = new GraphEmulator();
  await emulator.start();
  try {
    const calendar = new GraphCalendarProvider({ tokens: graphTokenSource(emulator, graphScopesFor(PERMISSIONS)), baseUrl: emulator.baseUrl, logger: createSilentLogger() });
    const created = await calendar.createEvent({
      title: 'Planning',
      start: new Date('2030-03-04T10:00:00Z'),
      end: new Date('2030-03-04T11:00:00Z'),
      timeZone: 'UTC',
      attendees: ['kim@partner.example'],
      idempotencyKey: 'other-calendar-1',
    });
    await run(calendar, emulator, created.id);
  } finally {
    await emulator.stop();
  }
}

const forbidden = (error: unknown) => error instanceof FleetError && error.code === 'forbidden';

describe('GraphCalendarProvider and events of other calendars', () => {
  it('reads an event of the primary calendar', async () => {
    await withCalendar(async (calendar, _emulator, id) => {
      assert.equal((await calendar.getEvent(id))?.id, id);
    });
  });

  it('does not find an event the owner organised in another calendar of the mailbox', async () => {
    await withCalendar(async (calendar, emulator, id) => {
      emulator.calendar.moveToOtherCalendar(id);
      assert.equal(await calendar.getEvent(id), null);
    });
  });

  it('refuses to update or cancel an event in another calendar, and nobody is notified', async () => {
    await withCalendar(async (calendar, emulator, id) => {
      emulator.calendar.moveToOtherCalendar(id);
      await assert.rejects(calendar.updateEvent(id, { addAttendees: ['new@partner.example'] }), forbidden);
      await assert.rejects(calendar.cancelEvent(id, 'Called off'), forbidden);
      assert.deepEqual(emulator.calendar.changes(), []);
      assert.notEqual(emulator.calendar.event(id), undefined, 'the event is still there');
    });
  });
});
