// The primary-calendar check of an event needs the calendar holding it. Graph marks the event's `calendar`
// relationship not expandable (`$expand=calendar` is undocumented, and reported to name a calendar the
// mailbox does not have), so it stays a request of its own: sent alongside the event's read, and the
// primary calendar's id read once. Counted in requests, not timed.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphCalendarProvider } from '../../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import { graphCalendarUnderTest, withGraphCalendarEvent } from '../../helpers/calendar-adapters-under-test.ts';

describe('Graph calendar round trips', () => {
  it('an edit costs the event read, its calendar read and the write; the primary calendar is read once', async () => {
    await withGraphCalendarEvent('round-trips-1', async ({ emulator, calendar, id }) => {
      const graphCalls = () => emulator.requests.filter((request) => request.path.startsWith('/v1.0/')).map((request) => `${request.method} ${request.path.replace(id, '{id}')}`);
      const before = graphCalls().length;
      const decided = await calendar.getEvent(id);
      assert.ok(decided !== null && decided.version !== null);
      await calendar.updateEvent(id, { addAttendees: ['lee@partner.example'] }, { version: decided.version });
      const again = await calendar.getEvent(id);
      assert.ok(again !== null && again.version !== null);
      await calendar.cancelEvent(id, 'Called off', { version: again.version });
      const calls = graphCalls().slice(before);
      const count = (call: string) => calls.filter((entry) => entry === call).length;
      assert.equal(count('GET /v1.0/me/calendar'), 1, calls.join('\n'));
      assert.equal(count('GET /v1.0/me/calendar/events/{id}'), 4, calls.join('\n'));
      assert.equal(count('GET /v1.0/me/calendar/events/{id}/calendar'), 4, calls.join('\n'));
      assert.equal(count('PATCH /v1.0/me/calendar/events/{id}'), 1, calls.join('\n'));
      assert.equal(count('POST /v1.0/me/calendar/events/{id}/cancel'), 1, calls.join('\n'));
      assert.equal(calls.length, 11, calls.join('\n'));
    });
  });

  it('the calendar holding the event is asked for while the event read is still unanswered', async () => {
    const id = 'AAMkEvOne';
    const order: string[] = [];
    let releaseEvent: () => void = () => undefined;
    const calendarAsked = new Promise<void>((resolve) => {
      releaseEvent = resolve;
    });
    const server = createServer((request, response) => {
      request.resume();
      const path = new URL(request.url ?? '/', 'http://loopback').pathname;
      order.push(path);
      const reply = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (path === '/v1.0/me/calendar' || path === `/v1.0/me/calendar/events/${id}/calendar`) {
        if (path.endsWith('/calendar') && path !== '/v1.0/me/calendar') releaseEvent();
        reply({ id: 'AAMkCalPrimary' });
        return;
      }
      // The event's answer waits until the calendar is asked for, or gives up after a while: a reader that
      // waits for this answer before asking is then seen asking after it.
      const timer = setTimeout(() => releaseEvent(), 2000);
      void calendarAsked.then(() => {
        clearTimeout(timer);
        order.push('event answered');
        reply({ id, subject: 'Planning', start: { dateTime: '2030-03-04T10:00:00', timeZone: 'UTC' }, end: { dateTime: '2030-03-04T11:00:00', timeZone: 'UTC' }, isOrganizer: true, '@odata.etag': 'W/"1"' });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const calendar = new GraphCalendarProvider({ tokens: { getAccessToken: async () => 'loopback-token' }, baseUrl: base, logger: createSilentLogger() });
      assert.equal((await calendar.getEvent(id))?.id, id);
      assert.ok(order.indexOf(`/v1.0/me/calendar/events/${id}/calendar`) < order.indexOf('event answered'), order.join(' → '));
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('the emulator refuses $expand on an event rather than answering without it', async () => {
    const { emulator, calendar, tokens } = await graphCalendarUnderTest();
    try {
      const created = await calendar.createEvent({ title: 'X', start: new Date('2030-03-04T10:00:00Z'), end: new Date('2030-03-04T11:00:00Z'), timeZone: 'UTC', attendees: ['kim@partner.example'], idempotencyKey: 'round-trips-2' });
      const get = async (expand: string) =>
        fetch(`${emulator.baseUrl}/v1.0/me/events/${created.id}?$select=id&$expand=${encodeURIComponent(expand)}`, { headers: { authorization: `Bearer ${await tokens.getAccessToken(false)}` } });
      for (const expand of ['calendar($select=id)', 'calendar', 'organizerCalendar']) {
        const answer = await get(expand);
        assert.equal(answer.status, 400, expand);
      }
    } finally {
      await emulator.stop();
    }
  });
});
