// The calendar emulators answer conditional writes as the services do: every change gives the event a new
// version (Google `etag`, Graph `@odata.etag`); a write whose If-Match names an older one is 412 and
// changes nothing; a write without If-Match is unconditional. Driven through the routes with the request
// headers they are handed, so each answer can be checked exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GoogleCalendarRoutes } from '../../emulators/google-calendar-routes.ts';
import { GraphCalendarRoutes } from '../../emulators/graph-calendar-routes.ts';

const OWNER = 'owner@acme.example';
const start = new Date('2030-02-01T09:00:00Z');
const end = new Date('2030-02-01T10:00:00Z');

describe('Google Calendar emulator: conditional modification', () => {
  const SCOPES = ['https://www.googleapis.com/auth/calendar.events'];
  const SEND_ALL = new URLSearchParams('sendUpdates=all');

  function calendar(): { routes: GoogleCalendarRoutes; etag: (id: string) => string } {
    const routes = new GoogleCalendarRoutes(OWNER);
    const etag = (id: string) => {
      const answer = routes.handle('GET', `/calendars/primary/events/${id}`, new URLSearchParams(), '', SCOPES, {});
      assert.equal(answer.status, 200);
      return String((answer.body as { etag: unknown }).etag);
    };
    return { routes, etag };
  }

  function insert(routes: GoogleCalendarRoutes, id: string): void {
    const body = JSON.stringify({ id, start: { dateTime: start.toISOString() }, end: { dateTime: end.toISOString() }, attendees: [{ email: 'kim@partner.example' }] });
    assert.equal(routes.handle('POST', '/calendars/primary/events', SEND_ALL, body, SCOPES, {}).status, 200);
  }

  it('a new etag on every change, whoever makes it; a stale If-Match is 412 conditionNotMet and writes nothing', () => {
    const { routes, etag } = calendar();
    insert(routes, 'abcde00001');
    const first = etag('abcde00001');
    routes.addGuestBehindTheAgent('abcde00001', 'planted@else.example');
    const second = etag('abcde00001');
    assert.notEqual(second, first);
    const patch = (headers: Record<string, string>) => routes.handle('PATCH', '/calendars/primary/events/abcde00001', SEND_ALL, JSON.stringify({ summary: 'Moved' }), SCOPES, headers);
    const stale = patch({ 'if-match': first });
    assert.equal(stale.status, 412);
    const error = (stale.body as { error: { code: number; errors: { reason: string; location: string }[] } }).error;
    assert.deepEqual([error.code, error.errors[0]?.reason, error.errors[0]?.location], [412, 'conditionNotMet', 'If-Match']);
    assert.equal(routes.event('abcde00001')?.summary, '', 'nothing written');
    assert.deepEqual(routes.changes(), []);
    const staleDelete = routes.handle('DELETE', '/calendars/primary/events/abcde00001', SEND_ALL, '', SCOPES, { 'if-match': first });
    assert.equal(staleDelete.status, 412);
    assert.equal(routes.event('abcde00001')?.status, 'confirmed');

    assert.equal(patch({ 'if-match': second }).status, 200, 'the current etag lands');
    const third = etag('abcde00001');
    assert.notEqual(third, second, 'the patch gave a new etag');
    assert.equal(patch({}).status, 200, 'without If-Match the write is unconditional');
    assert.notEqual(etag('abcde00001'), third);
    assert.equal(routes.handle('DELETE', '/calendars/primary/events/abcde00001', SEND_ALL, '', SCOPES, { 'if-match': '*' }).status, 204, '* matches any version');
  });
});

describe('Graph calendar emulator: If-Match on an event PATCH', () => {
  const SCOPES = ['Calendars.ReadWrite'];
  const PREFER = 'outlook.timezone="UTC"';

  function created(routes: GraphCalendarRoutes): string {
    const body = JSON.stringify({
      subject: 'Sync',
      start: { dateTime: '2030-02-01T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2030-02-01T10:00:00', timeZone: 'UTC' },
      attendees: [{ emailAddress: { address: 'kim@partner.example' }, type: 'required' }],
    });
    const answer = routes.handle('POST', '/v1.0/me/events', new URLSearchParams(), body, PREFER, SCOPES, {});
    assert.equal(answer.status, 201);
    return String((answer.body as { id: unknown }).id);
  }

  const etagOf = (routes: GraphCalendarRoutes, id: string) => {
    // Rendered whatever $select names: an annotation, not a property.
    const answer = routes.handle('GET', `/v1.0/me/calendar/events/${id}`, new URLSearchParams({ $select: 'subject' }), '', PREFER, SCOPES, {});
    assert.equal(answer.status, 200);
    return String((answer.body as Record<string, unknown>)['@odata.etag']);
  };

  it('a new @odata.etag on every change; a stale If-Match is 412 ErrorIrresolvableConflict and writes nothing; none is unconditional', () => {
    const routes = new GraphCalendarRoutes(() => 'http://127.0.0.1:1');
    const id = created(routes);
    const first = etagOf(routes, id);
    assert.match(first, /^W\/".+"$/);
    routes.addAttendeeBehindTheAgent(id, 'planted@else.example');
    const second = etagOf(routes, id);
    assert.notEqual(second, first);
    const patch = (headers: Record<string, string>) => routes.handle('PATCH', `/v1.0/me/calendar/events/${id}`, new URLSearchParams(), JSON.stringify({ subject: 'Moved' }), PREFER, SCOPES, headers);
    const stale = patch({ 'if-match': first });
    assert.equal(stale.status, 412);
    assert.equal((stale.body as { error: { code: string } }).error.code, 'ErrorIrresolvableConflict');
    assert.equal(routes.event(id)?.subject, 'Sync', 'nothing written');
    assert.deepEqual(routes.changes(), []);
    assert.equal(patch({ 'if-match': second }).status, 200);
    const third = etagOf(routes, id);
    assert.notEqual(third, second);
    assert.equal(patch({}).status, 200, 'without If-Match the write is unconditional');
    assert.notEqual(etagOf(routes, id), third);
  });
});
