// The calendar emulators' update and cancel endpoints are as strict as the services they stand for:
// unknown fields, wrong methods, bad and unknown ids, Google's 410 for a deleted event, Graph's organizer-only cancel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { accessTokenFor } from '../helpers/oauth-tokens.ts';

const READ_WRITE = { 'calendar.read': true, 'calendar.write': true };
const json = { 'content-type': 'application/json' };

describe('Google Calendar emulator: events.patch and events.delete', () => {
  it('refuses unknown fields, wrong methods, non-organizer changes and unknown ids; a deleted event is 410 again and reads back cancelled', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const token = (await accessTokenFor(emulator, gmailScopesFor(READ_WRITE))).accessToken;
      const call = async (method: string, path: string, body?: unknown) => {
        const answer = await fetch(`${emulator.rootUrl}calendar/v3/calendars/primary/events${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...json },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await answer.text();
        const parsed = (text === '' ? {} : JSON.parse(text)) as { status?: string; error?: { errors: { reason: string }[] } };
        return { status: answer.status, reason: parsed.error?.errors[0]?.reason ?? parsed.status ?? null };
      };
      const event = { id: 'abcde12345', start: { dateTime: '2030-01-10T09:00:00Z' }, end: { dateTime: '2030-01-10T10:00:00Z' }, attendees: [{ email: 'a@b.example' }] };
      assert.deepEqual(await call('POST', '?sendUpdates=all', event), { status: 200, reason: 'confirmed' });
      assert.deepEqual(await call('PATCH', '/abcde12345?sendUpdates=all', { summary: 'x', colour: 'red' }), { status: 400, reason: 'invalid' });
      assert.deepEqual(await call('PATCH', '/abcde12345?sendUpdates=all', { attendees: [{ email: 'a@b.example', role: 'x' }] }), { status: 400, reason: 'invalid' });
      assert.deepEqual(await call('PATCH', '/abcde12345?sendUpdates=some', { summary: 'x' }), { status: 400, reason: 'invalidParameter' });
      assert.deepEqual(await call('PUT', '/abcde12345', { summary: 'x' }), { status: 405, reason: 'httpMethodNotAllowed' });
      assert.deepEqual(await call('PATCH', '/abcdefffff', { summary: 'x' }), { status: 404, reason: 'notFound' });
      assert.deepEqual(await call('PATCH', '/abcde12345?sendUpdates=all', { summary: 'Moved' }), { status: 200, reason: 'confirmed' });
      const foreign = emulator.calendar.addForeignEvent({ organizer: 'boss@elsewhere.example', summary: 'Theirs', start: new Date('2030-01-11T09:00:00Z'), end: new Date('2030-01-11T10:00:00Z') });
      assert.deepEqual(await call('PATCH', `/${foreign}`, { summary: 'Mine now' }), { status: 403, reason: 'forbiddenForNonOrganizer' });
      assert.deepEqual(await call('DELETE', '/abcde12345?sendUpdates=all'), { status: 204, reason: null });
      assert.deepEqual(await call('DELETE', '/abcde12345?sendUpdates=all'), { status: 410, reason: 'deleted' });
      assert.deepEqual(await call('PATCH', '/abcde12345', { summary: 'Back' }), { status: 410, reason: 'deleted' });
      assert.deepEqual(await call('GET', '/abcde12345'), { status: 200, reason: 'cancelled' });
      assert.deepEqual(
        emulator.calendar.changes().map((c) => [c.method, c.sendUpdates]),
        [
          ['PATCH', 'all'],
          ['DELETE', 'all'],
        ],
      );
    } finally {
      await emulator.stop();
    }
  });
});

describe('Graph calendar emulator: GET, PATCH and cancel of one event', () => {
  it('refuses malformed ids, unknown properties, wrong methods and a cancel by an attendee; a cancelled meeting is gone from the calendar', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const token = (await accessTokenFor(emulator, graphScopesFor(READ_WRITE), { askScopes: true })).accessToken;
      const call = async (method: string, path: string, body?: unknown) => {
        const answer = await fetch(`${emulator.baseUrl}/v1.0/me${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...json },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await answer.text();
        const parsed = (text === '' ? {} : JSON.parse(text)) as { id?: string; error?: { code: string } };
        return { status: answer.status, code: parsed.error?.code ?? null, id: parsed.id ?? null };
      };
      const created = await call('POST', '/events', {
        subject: 'Ours',
        start: { dateTime: '2030-01-10T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-01-10T10:00:00', timeZone: 'UTC' },
        attendees: [{ emailAddress: { address: 'a@b.example' }, type: 'required' }],
      });
      const id = created.id ?? '';
      assert.equal((await call('GET', '/calendar/events/not-an-id')).code, 'ErrorInvalidIdMalformed');
      assert.deepEqual(await call('GET', '/calendar/events/AAMkAGI2TG93AAA='), { status: 404, code: 'ErrorItemNotFound', id: null });
      assert.deepEqual(await call('PATCH', `/calendar/events/${id}`, { subject: 'x', colour: 'red' }), { status: 400, code: 'RequestBodyRead', id: null });
      assert.deepEqual(await call('PATCH', `/calendar/events/${id}`, { start: { dateTime: '2030-01-10T09:30:00' } }), { status: 400, code: 'TimeZoneNotSupportedException', id: null });
      assert.equal((await call('PUT', `/calendar/events/${id}`, { subject: 'x' })).status, 405);
      assert.equal((await call('GET', `/calendar/events/${id}/cancel`)).status, 405);
      assert.deepEqual(await call('POST', `/calendar/events/${id}/cancel`, { comment: 'x', notify: true }), { status: 400, code: 'RequestBodyRead', id: null });
      const foreign = emulator.calendar.addForeignEvent({ organizer: 'boss@elsewhere.example', subject: 'Theirs', start: new Date('2030-01-11T09:00:00Z'), end: new Date('2030-01-11T10:00:00Z'), attendees: [emulator.mailbox] });
      assert.deepEqual(await call('POST', `/events/${foreign}/cancel`, { comment: 'no' }), { status: 400, code: 'ErrorInvalidRequest', id: null });
      assert.deepEqual(await call('PATCH', `/calendar/events/${id}`, { subject: 'Moved' }), { status: 200, code: null, id });
      assert.deepEqual(await call('POST', `/calendar/events/${id}/cancel`, { comment: 'Sorry' }), { status: 202, code: null, id: null });
      assert.deepEqual(await call('GET', `/calendar/events/${id}`), { status: 404, code: 'ErrorItemNotFound', id: null });
      assert.deepEqual(await call('POST', `/calendar/events/${id}/cancel`, {}), { status: 404, code: 'ErrorItemNotFound', id: null });
      assert.deepEqual(
        emulator.calendar.changes().map((c) => [c.method, c.comment]),
        [
          ['PATCH', null],
          ['cancel', 'Sorry'],
        ],
      );
      const reader = (await accessTokenFor(emulator, graphScopesFor({ 'calendar.read': true }), { askScopes: true })).accessToken;
      const denied = await fetch(`${emulator.baseUrl}/v1.0/me/events/${foreign}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${reader}`, ...json }, body: '{}' });
      assert.equal(denied.status, 403);
    } finally {
      await emulator.stop();
    }
  });
});
