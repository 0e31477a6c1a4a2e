import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectorsFromSecrets } from '../../agent-image/src/adapters/connectors-from-secrets.ts';
import { GraphCalendarProvider } from '../../agent-image/src/adapters/graph/graph-calendar-provider.ts';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { irresolvableConflict } from '../emulators/graph-calendar-wire.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { answerNextPatch, writeConditions } from '../helpers/calendar-adapters-under-test.ts';
import { accessTokenFor, graphTokenSource, providerSecret } from '../helpers/oauth-tokens.ts';
import { calendarProviderContract, memorySecretSource, type CalendarHarness } from './calendar-provider.contract.ts';

const READ_WRITE = { 'calendar.read': true, 'calendar.write': true };

function provider(emulator: GraphEmulator, permissions: Record<string, boolean>, pageSize?: number): GraphCalendarProvider {
  return new GraphCalendarProvider({
    tokens: graphTokenSource(emulator, graphScopesFor(permissions)),
    baseUrl: emulator.baseUrl,
    ...(pageSize === undefined ? {} : { pageSize }),
    logger: createSilentLogger(),
  });
}

async function graphHarness(): Promise<CalendarHarness> {
  const emulator = new GraphEmulator();
  await emulator.start();
  return {
    // A page size of 2 makes free/busy follow nextLinks in the contract.
    provider: provider(emulator, READ_WRITE, 2),
    providerWithoutWrite: provider(emulator, { 'calendar.read': true }),
    addBusy: (start, end) => emulator.calendar.addBusy(start, end),
    created: () =>
      emulator.calendar.events().map((e) => ({
        id: e.id,
        title: e.subject,
        start: e.start,
        end: e.end,
        attendees: e.attendees.map((a) => a.address),
        // Graph invites every attendee of a created event; required attendees are what we ask for.
        invitationsSent: e.attendees.every((a) => a.type === 'required'),
      })),
    addForeignEvent: (organizer, start, end) => emulator.calendar.addForeignEvent({ organizer, subject: 'Their meeting', start, end, attendees: [emulator.mailbox] }),
    changes: () =>
      emulator.calendar.changes().map((c) => ({
        id: c.id,
        operation: c.method === 'PATCH' ? 'update' : 'cancel',
        attendees: c.attendees,
        added: c.added,
        // Graph notifies the attendees of every change the organizer makes.
        notified: c.byOrganizer,
      })),
    eventNow: (id) => {
      const e = emulator.calendar.event(id);
      if (e === undefined) return null;
      return { title: e.subject, start: e.start, end: e.end, attendees: e.attendees.map((a) => a.address), description: e.body, location: e.location };
    },
    makeRecurring: (id) => emulator.calendar.makeSeries(id),
    makeOccurrence: (id) => emulator.calendar.makeOccurrence(id),
    addAttendeeBehindTheAgent: (id, address) => emulator.calendar.addAttendeeBehindTheAgent(id, address),
    writeConditions: () => writeConditions(emulator.requests, (method, path) => (method === 'PATCH' || (method === 'POST' && path.endsWith('/cancel'))) && /\/events\//.test(path)),
    answerNextUpdateAsStale: () => answerNextPatch(emulator.calendar, irresolvableConflict),
    unknownEventId: 'AAMkAGI2TG93AAA=',
    revokeConsent: () => emulator.revokeConsent(),
    invalidateAccessTokens: () => emulator.invalidateAccessTokens(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    stop: () => emulator.stop(),
  };
}

calendarProviderContract('GraphCalendarProvider', graphHarness);

describe('GraphCalendarProvider specifics', () => {
  it('sends the wall time in the event zone with transactionId, and free/busy ignores free and selects no content', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const calendar = provider(emulator, READ_WRITE);
      emulator.calendar.addBusy(new Date('2030-07-01T08:00:00Z'), new Date('2030-07-01T09:00:00Z'), 'free');
      await calendar.createEvent({
        title: 'Summer sync',
        start: new Date('2030-07-01T10:00:00Z'),
        end: new Date('2030-07-01T11:00:00Z'),
        timeZone: 'Europe/Berlin',
        attendees: ['sam@customer.example'],
        idempotencyKey: 'graph-tz-1',
      });
      const post = emulator.requests.find((r) => r.method === 'POST' && r.path === '/v1.0/me/events');
      const body = JSON.parse(post?.body ?? '{}') as { start: { dateTime: string; timeZone: string }; transactionId: string };
      // Berlin is UTC+2 in July.
      assert.deepEqual(body.start, { dateTime: '2030-07-01T12:00:00', timeZone: 'Europe/Berlin' });
      assert.equal(body.transactionId, 'graph-tz-1');
      const busy = await calendar.freeBusy(new Date('2030-07-01T00:00:00Z'), new Date('2030-07-02T00:00:00Z'));
      assert.deepEqual(busy.map((b) => b.start.toISOString()), ['2030-07-01T10:00:00.000Z']);
      const view = emulator.requests.find((r) => r.path === '/v1.0/me/calendarView');
      assert.equal(view?.query.get('$select'), 'showAs,start,end,isAllDay,isCancelled');
    } finally {
      await emulator.stop();
    }
  });

  it('a key reused for a different event is a conflict, not a silent duplicate', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const calendar = provider(emulator, READ_WRITE);
      const base = {
        title: 'One',
        start: new Date('2030-07-01T10:00:00Z'),
        end: new Date('2030-07-01T11:00:00Z'),
        timeZone: 'UTC',
        attendees: ['sam@customer.example'],
        idempotencyKey: 'graph-reuse',
      };
      await calendar.createEvent(base);
      await assert.rejects(calendar.createEvent({ ...base, title: 'Two' }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'conflict');
      assert.equal(emulator.calendar.events().length, 1);
    } finally {
      await emulator.stop();
    }
  });
});

describe('Graph calendar emulator strictness', () => {
  it('rejects a missing token, a missing timeZone, a bad $filter and a create without Calendars.ReadWrite', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const tokenFor = async (permissions: Record<string, boolean>) =>
        (await accessTokenFor(emulator, graphScopesFor(permissions), { askScopes: true })).accessToken;
      const call = async (token: string | null, method: string, path: string, body?: unknown) => {
        const answer = await fetch(`${emulator.baseUrl}/v1.0${path}`, {
          method,
          headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const parsed = (await answer.json()) as { error?: { code: string } };
        return { status: answer.status, code: parsed.error?.code ?? null };
      };
      const event = {
        subject: 'x',
        start: { dateTime: '2030-01-10T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-01-10T10:00:00', timeZone: 'UTC' },
        attendees: [{ emailAddress: { address: 'a@b.example' }, type: 'required' }],
      };
      assert.deepEqual(await call(null, 'POST', '/me/events', event), { status: 401, code: 'InvalidAuthenticationToken' });
      const writer = await tokenFor(READ_WRITE);
      assert.deepEqual(await call(writer, 'POST', '/me/events', { ...event, start: { dateTime: '2030-01-10T09:00:00' } }), {
        status: 400,
        code: 'TimeZoneNotSupportedException',
      });
      assert.deepEqual(await call(writer, 'GET', "/me/events?$filter=subject eq 'x'"), { status: 400, code: 'ErrorInvalidUrlQueryFilter' });
      assert.deepEqual(await call(writer, 'GET', '/me/calendarView'), { status: 400, code: 'ErrorInvalidParameter' });
      const reader = await tokenFor({ 'calendar.read': true });
      assert.deepEqual(await call(reader, 'POST', '/me/events', event), { status: 403, code: 'ErrorAccessDenied' });
      const mailOnly = await tokenFor({ 'mail.read': true });
      assert.deepEqual(await call(mailOnly, 'GET', '/me/calendarView?startDateTime=2030-01-10T00:00:00Z&endDateTime=2030-01-11T00:00:00Z'), {
        status: 403,
        code: 'ErrorAccessDenied',
      });
      assert.deepEqual(await call(writer, 'POST', '/me/events', event), { status: 201, code: null });
      assert.equal(emulator.calendar.events().length, 1);
    } finally {
      await emulator.stop();
    }
  });
});

describe('connectorsFromSecrets (outlook)', () => {
  it('builds a Graph calendar sharing the mailbox token source when a calendar capability is granted', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const permissions = { 'mail.read': true, ...READ_WRITE };
      const parsed = parseClientConfig({ client: 'acme', provider: 'outlook', mailbox: emulator.mailbox, admins: ['ops@acme.example'], permissions });
      if (!parsed.ok) throw new Error(parsed.issues.join('; '));
      const source = memorySecretSource({
        outlook: providerSecret(emulator, graphScopesFor(permissions)),
        anthropic: 'sk-ant-test',
      });
      const built = await connectorsFromSecrets({ graphBaseUrl: emulator.baseUrl, graphTokenUrl: emulator.tokenUrl })({
        config: parsed.config,
        secrets: await source.readSecrets(),
        source,
        logger: createSilentLogger(),
      });
      if ('missing' in built) throw new Error(`missing ${built.missing.join(', ')}`);
      // Microsoft rotates on every refresh: two token sources would kill each other's refresh token.
      await built.provider.listChangesSince(null);
      const event = await built.calendar?.createEvent({
        title: 'Wiring',
        start: new Date('2030-01-10T09:00:00Z'),
        end: new Date('2030-01-10T09:30:00Z'),
        timeZone: 'UTC',
        attendees: ['sam@customer.example'],
        idempotencyKey: 'wiring-1',
      });
      assert.equal(event?.idempotencyKey, 'wiring-1');
      await built.provider.listChangesSince(null);
      const tokenRequests = emulator.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token'));
      assert.equal(tokenRequests.length, 1);
    } finally {
      await emulator.stop();
    }
  });
});
