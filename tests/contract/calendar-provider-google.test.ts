import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectorsFromSecrets } from '../../agent-image/src/adapters/connectors-from-secrets.ts';
import { RotatingOAuth2Client } from '../../agent-image/src/adapters/gmail/gmail-auth.ts';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GoogleCalendarProvider } from '../../agent-image/src/adapters/google-calendar/google-calendar-provider.ts';
import { KEY_PROPERTY, eventIdFor } from '../../agent-image/src/adapters/google-calendar/google-event-id.ts';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { etagOf, preconditionFailed } from '../emulators/google-calendar-wire.ts';
import { answerNextPatch, writeConditions } from '../helpers/calendar-adapters-under-test.ts';
import { accessTokenFor, googleOAuth, providerSecret } from '../helpers/oauth-tokens.ts';
import { calendarProviderContract, memorySecretSource, type CalendarHarness } from './calendar-provider.contract.ts';

const READ_WRITE = { 'calendar.read': true, 'calendar.write': true };

function provider(emulator: GmailEmulator, permissions: Record<string, boolean>, rotated: string[] = []): GoogleCalendarProvider {
  return new GoogleCalendarProvider({
    auth: {
      oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(permissions))),
      onRefreshTokenRotated: async (token) => {
        rotated.push(token);
      },
    },
    rootUrl: emulator.rootUrl,
    logger: createSilentLogger(),
  });
}

async function googleHarness(): Promise<CalendarHarness> {
  const emulator = new GmailEmulator();
  await emulator.start();
  return {
    provider: provider(emulator, READ_WRITE),
    providerWithoutWrite: provider(emulator, { 'calendar.read': true }),
    addBusy: (start, end) => emulator.calendar.addBusy(start, end),
    created: () =>
      emulator.calendar.events().map((e) => ({
        id: e.id,
        title: e.summary,
        start: e.start,
        end: e.end,
        attendees: e.attendees,
        invitationsSent: e.sendUpdates === 'all',
      })),
    addForeignEvent: (organizer, start, end) => emulator.calendar.addForeignEvent({ organizer, summary: 'Their meeting', start, end }),
    changes: () =>
      emulator.calendar.changes().map((c) => ({
        id: c.id,
        operation: c.method === 'PATCH' ? 'update' : 'cancel',
        attendees: c.attendees,
        added: c.added,
        notified: c.sendUpdates === 'all' && c.byOrganizer,
      })),
    eventNow: (id) => {
      const e = emulator.calendar.event(id);
      if (e === undefined || e.status === 'cancelled') return null;
      return { title: e.summary, start: e.start, end: e.end, attendees: e.attendees, description: e.description, location: e.location };
    },
    makeRecurring: (id) => emulator.calendar.makeRecurring(id),
    makeOccurrence: (id) => emulator.calendar.makeInstance(id, 'abcdef0123456789'),
    addAttendeeBehindTheAgent: (id, address) => emulator.calendar.addGuestBehindTheAgent(id, address),
    writeConditions: () => writeConditions(emulator.requests, (method, path) => (method === 'PATCH' || method === 'DELETE') && path.startsWith('/calendar/v3/')),
    answerNextUpdateAsStale: () => answerNextPatch(emulator.calendar, () => preconditionFailed(etagOf(0), etagOf(1))),
    unknownEventId: 'abcdef0123456789',
    revokeConsent: () => emulator.revokeConsent(),
    invalidateAccessTokens: () => emulator.invalidateAccessTokens(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    stop: () => emulator.stop(),
  };
}

calendarProviderContract('GoogleCalendarProvider', googleHarness);

describe('GoogleCalendarProvider specifics', () => {
  it('requests calendar.freebusy to read and calendar.events to write, never the full calendar scope', () => {
    assert.deepEqual(gmailScopesFor({ 'calendar.read': true }), ['https://www.googleapis.com/auth/calendar.freebusy']);
    assert.deepEqual(gmailScopesFor({ 'calendar.write': true }), ['https://www.googleapis.com/auth/calendar.events']);
    assert.ok(!gmailScopesFor({ 'mail.read': true, ...READ_WRITE }).includes('https://www.googleapis.com/auth/calendar'));
  });

  it('derives a base32hex event id from the key and stores the key on the event', async () => {
    const id = eventIdFor('cal-id-1');
    assert.match(id, /^[0-9a-v]{5,1024}$/);
    assert.equal(eventIdFor('cal-id-1'), id);
    assert.notEqual(eventIdFor('CAL-ID-1'), id);
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const event = await provider(emulator, READ_WRITE).createEvent({
        title: 'Intro',
        start: new Date('2030-01-10T09:00:00Z'),
        end: new Date('2030-01-10T09:15:00Z'),
        timeZone: 'Europe/Berlin',
        attendees: ['sam@customer.example'],
        idempotencyKey: 'cal-id-1',
      });
      assert.equal(event.id, id);
      const [record] = emulator.calendar.events();
      assert.equal(record?.privateProperties[KEY_PROPERTY], 'cal-id-1');
      assert.equal(record?.timeZone, 'Europe/Berlin');
    } finally {
      await emulator.stop();
    }
  });

  it('a calendar sharing the mailbox OAuth client survives refresh-token rotation by either user', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const stored: string[] = [];
      const client = new RotatingOAuth2Client(
        googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true, ...READ_WRITE }))),
        async (token) => {
          stored.push(token);
        },
      );
      const a = new GoogleCalendarProvider({ auth: { client }, rootUrl: emulator.rootUrl, logger: createSilentLogger() });
      const b = new GoogleCalendarProvider({ auth: { client }, rootUrl: emulator.rootUrl, logger: createSilentLogger() });
      const window = [new Date('2030-01-10T09:00:00Z'), new Date('2030-01-10T10:00:00Z')] as const;
      await a.freeBusy(...window);
      emulator.invalidateAccessTokens();
      await b.freeBusy(...window);
      emulator.invalidateAccessTokens();
      await a.freeBusy(...window);
      assert.equal(stored.length, 3);
    } finally {
      await emulator.stop();
    }
  });
});

describe('Google Calendar emulator strictness', () => {
  it('rejects a non-base32hex id, a dateTime without zone, an empty range, a reused id and a missing scope', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const tokenFor = async (permissions: Record<string, boolean>) => (await accessTokenFor(emulator, gmailScopesFor(permissions))).accessToken;
      const url = `${emulator.rootUrl}calendar/v3/calendars/primary/events?sendUpdates=all`;
      const post = async (token: string, body: unknown) => {
        const answer = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const parsed = (await answer.json()) as { error?: { errors: { reason: string }[] } };
        return { status: answer.status, reason: parsed.error?.errors[0]?.reason ?? null };
      };
      const writer = await tokenFor(READ_WRITE);
      const good = { start: { dateTime: '2030-01-10T09:00:00Z' }, end: { dateTime: '2030-01-10T10:00:00Z' } };
      assert.deepEqual(await post(writer, { ...good, id: 'UPPER-case_id' }), { status: 400, reason: 'invalid' });
      assert.deepEqual(await post(writer, { ...good, id: 'abcw1' }), { status: 400, reason: 'invalid' });
      assert.deepEqual(await post(writer, { ...good, start: { dateTime: '2030-01-10T09:00:00' } }), { status: 400, reason: 'required' });
      assert.deepEqual(await post(writer, { ...good, end: { dateTime: '2030-01-10T08:00:00Z' } }), { status: 400, reason: 'timeRangeEmpty' });
      assert.deepEqual(await post(writer, { ...good, id: 'abcde12345' }), { status: 200, reason: null });
      assert.deepEqual(await post(writer, { ...good, id: 'abcde12345' }), { status: 409, reason: 'duplicate' });
      const reader = await tokenFor({ 'calendar.read': true });
      assert.deepEqual(await post(reader, { ...good, id: 'fghij12345' }), { status: 403, reason: 'insufficientPermissions' });
      const mailOnly = await tokenFor({ 'mail.read': true });
      const freeBusy = await fetch(`${emulator.rootUrl}calendar/v3/freeBusy`, {
        method: 'POST',
        headers: { authorization: `Bearer ${mailOnly}`, 'content-type': 'application/json' },
        body: JSON.stringify({ timeMin: '2030-01-10T00:00:00Z', timeMax: '2030-01-11T00:00:00Z', items: [{ id: 'primary' }] }),
      });
      assert.equal(freeBusy.status, 403);
      const anonymous = await fetch(`${emulator.rootUrl}calendar/v3/freeBusy`, { method: 'POST', body: '{}' });
      assert.equal(anonymous.status, 401);
      assert.equal(emulator.calendar.events().length, 1);
    } finally {
      await emulator.stop();
    }
  });
});

describe('connectorsFromSecrets (gmail)', () => {
  it('builds a Google calendar on the mailbox grant only when a calendar capability is granted', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const build = async (permissions: Record<string, boolean>) => {
        const parsed = parseClientConfig({ client: 'acme', provider: 'gmail', mailbox: emulator.mailbox, admins: ['ops@acme.example'], permissions });
        if (!parsed.ok) throw new Error(parsed.issues.join('; '));
        const source = memorySecretSource({
          gmail: providerSecret(emulator, gmailScopesFor(permissions)),
          anthropic: 'sk-ant-test',
        });
        const built = await connectorsFromSecrets({ gmailRootUrl: emulator.rootUrl, gmailTokenUrl: emulator.tokenUrl })({
          config: parsed.config,
          secrets: await source.readSecrets(),
          source,
          logger: createSilentLogger(),
        });
        if ('missing' in built) throw new Error(`missing ${built.missing.join(', ')}`);
        return { built, source };
      };
      const { built, source } = await build({ 'mail.read': true, ...READ_WRITE });
      emulator.calendar.addBusy(new Date('2030-01-10T09:00:00Z'), new Date('2030-01-10T10:00:00Z'));
      const busy = await built.calendar?.freeBusy(new Date('2030-01-10T00:00:00Z'), new Date('2030-01-11T00:00:00Z'));
      assert.equal(busy?.length, 1);
      // The rotated refresh token went back to the secret store under the mailbox's secret.
      const stored = JSON.parse(source.secrets.get('gmail') ?? '{}') as { refresh_token?: string; client_id?: string };
      assert.equal(stored.client_id, emulator.clientId);
      assert.match(stored.refresh_token ?? '', /^1\/\/rt-/);
      const without = await build({ 'mail.read': true, 'calendar.read': false });
      assert.equal(without.built.calendar ?? null, null);
    } finally {
      await emulator.stop();
    }
  });
});
