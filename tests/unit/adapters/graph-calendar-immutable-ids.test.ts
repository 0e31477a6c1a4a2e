// Graph's default event id changes whenever the event moves to another calendar; the agent keeps event ids
// (an approval names the event it changes, the audit the event it created) and uses them days later, so
// the calendar adapter asks for immutable ids, which last while the event stays in the mailbox.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withGraphCalendarEvent } from '../../helpers/calendar-adapters-under-test.ts';

describe('GraphCalendarProvider and event ids', () => {
  it('an event moved to another calendar and back is still found, and changed, by the id it was created under', async () => {
    await withGraphCalendarEvent('immutable-id-1', async ({ calendar, emulator, id }) => {
      emulator.calendar.moveToOtherCalendar(id);
      emulator.calendar.moveToPrimaryCalendar(id);
      const read = await calendar.getEvent(id);
      assert.equal(read?.id, id);
      const updated = await calendar.updateEvent(id, { title: 'Planning (moved back)' }, { version: read?.version ?? '' });
      assert.equal(updated.id, id);
      assert.equal(emulator.calendar.event(id)?.subject, 'Planning (moved back)');
    });
  });

  it('the id found by idempotency key is the one the event keeps across moves', async () => {
    await withGraphCalendarEvent('immutable-id-2', async ({ calendar, emulator, id }) => {
      emulator.calendar.moveToOtherCalendar(id);
      emulator.calendar.moveToPrimaryCalendar(id);
      const found = await calendar.findEventByIdempotencyKey('immutable-id-2');
      assert.equal(found?.id, id);
    });
  });
});

describe('Graph calendar emulator ids', () => {
  it('names an event by its default id unless the request asks for immutable ids, and finds it by either', async () => {
    await withGraphCalendarEvent('immutable-id-3', async ({ emulator, tokens, id }) => {
      const token = await tokens.getAccessToken(false);
      const read = async (eventId: string, prefer?: string) => {
        const answer = await fetch(`${emulator.baseUrl}/v1.0/me/calendar/events/${eventId}?$select=subject`, {
          headers: { authorization: `Bearer ${token}`, ...(prefer === undefined ? {} : { prefer }) },
        });
        return { status: answer.status, id: ((await answer.json()) as { id?: string }).id ?? null };
      };
      const plain = await read(id);
      assert.equal(plain.status, 200);
      assert.notEqual(plain.id, id, 'the default id is another one');
      assert.deepEqual(await read(plain.id ?? '', 'IdType="ImmutableId"'), { status: 200, id });
      emulator.calendar.moveToOtherCalendar(id);
      assert.equal((await read(plain.id ?? '')).status, 404, 'the default id changed with the move');
      assert.notEqual((await read(id)).id, plain.id);
    });
  });
});
