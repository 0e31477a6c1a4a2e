import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { EventChangedError, type CalendarProvider, type EventEditingCalendar, type NewEvent } from '../../agent-image/src/ports/calendar-provider.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../agent-image/src/ports/secret-source.ts';

/**
 * One behaviour suite for the CalendarProvider port, run against every adapter pointed at its emulator,
 * so adapters and emulators cannot drift apart.
 */

/** An event as the emulator recorded its creation. */
export interface CreatedView {
  id: string;
  title: string;
  start: Date;
  end: Date;
  attendees: string[];
  /** Whether the provider was told to send invitations (Google `sendUpdates=all`; Graph always does). */
  invitationsSent: boolean;
}

/** An update or cancel as the emulator recorded it. */
export interface ChangeView {
  id: string;
  operation: 'update' | 'cancel';
  /** Attendees after the change, and those it added. */
  attendees: string[];
  added: string[];
  /** Whether the provider notified the attendees (and invited the added ones). */
  notified: boolean;
}

/** An event as it stands on the emulated calendar now. */
export interface EventNow {
  title: string;
  start: Date;
  end: Date;
  attendees: string[];
  description: string | null;
  location: string | null;
}

export interface CalendarHarness {
  /** Granted calendar.read and calendar.write. */
  provider: EventEditingCalendar;
  /** Granted calendar.read only. */
  providerWithoutWrite: CalendarProvider;
  addBusy(start: Date, end: Date): void;
  created(): CreatedView[];
  /** An invitation organised by `organizer` on the owner's calendar; returns its id. */
  addForeignEvent(organizer: string, start: Date, end: Date): string;
  /** Makes the owner's event with this id the master of a recurring series. */
  makeRecurring(id: string): void;
  /** Makes the owner's event with this id one occurrence of a recurring series. */
  makeOccurrence(id: string): void;
  /** Someone else adds an attendee to the event (not through the adapter): the event gets a new version. */
  addAttendeeBehindTheAgent(id: string, address: string): void;
  /** The If-Match header of each write request (update, cancel) the emulator received, in order; null where none was sent. */
  writeConditions(): (string | null)[];
  /** The next update the provider receives is answered as one whose If-Match went stale (the event changed after the adapter read it): 412. */
  answerNextUpdateAsStale(): void;
  /** Every update and cancel the emulator accepted, in order. */
  changes(): ChangeView[];
  /** The event now, or null when it is cancelled or gone. */
  eventNow(id: string): EventNow | null;
  /** A well-formed id the calendar does not hold. */
  unknownEventId: string;
  revokeConsent(): void;
  invalidateAccessTokens(): void;
  throttle(count: number, retryAfterSeconds: number): void;
  stop(): Promise<void>;
}

const at = (time: string) => new Date(`2030-03-04T${time}:00Z`);

const meeting = (key: string, extra: Partial<NewEvent> = {}): NewEvent => ({
  title: 'Contract review',
  start: at('13:00'),
  end: at('13:30'),
  timeZone: 'America/New_York',
  attendees: ['Dana@Customer.example', 'lee@partner.example'],
  description: 'Agreed by email.',
  location: 'Video call',
  idempotencyKey: key,
  ...extra,
});

export function calendarProviderContract(adapter: string, createHarness: () => Promise<CalendarHarness>): void {
  describe(`CalendarProvider contract: ${adapter}`, () => {
    let h: CalendarHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    it('free/busy returns the busy blocks in the window, sorted and clipped to it', async () => {
      h.addBusy(at('10:00'), at('11:00'));
      h.addBusy(at('16:00'), at('18:00'));
      h.addBusy(at('08:30'), at('09:30'));
      h.addBusy(at('20:00'), at('21:00'));
      const busy = await h.provider.freeBusy(at('09:00'), at('17:00'));
      assert.deepEqual(
        busy.map((b) => [b.start.toISOString(), b.end.toISOString()]),
        [
          [at('09:00').toISOString(), at('09:30').toISOString()],
          [at('10:00').toISOString(), at('11:00').toISOString()],
          [at('16:00').toISOString(), at('17:00').toISOString()],
        ],
      );
      assert.deepEqual(await h.providerWithoutWrite.freeBusy(at('21:00'), at('22:00')), []);
    });

    it('createEvent invites every attendee at the right instant and the event then shows as busy', async () => {
      const event = await h.provider.createEvent(meeting('cal-create-1'));
      assert.ok(event.id.length > 0);
      assert.equal(event.title, 'Contract review');
      assert.equal(event.start.toISOString(), at('13:00').toISOString());
      assert.equal(event.end.toISOString(), at('13:30').toISOString());
      assert.deepEqual([...event.attendees].sort(), ['dana@customer.example', 'lee@partner.example']);
      assert.equal(event.idempotencyKey, 'cal-create-1');
      const [record, ...others] = h.created();
      assert.deepEqual(others, []);
      assert.equal(record?.id, event.id);
      assert.deepEqual([...(record?.attendees ?? [])].sort(), ['dana@customer.example', 'lee@partner.example']);
      assert.equal(record?.invitationsSent, true);
      assert.equal(record?.start.toISOString(), at('13:00').toISOString());
      const busy = await h.provider.freeBusy(at('12:00'), at('14:00'));
      assert.deepEqual(busy.map((b) => b.start.toISOString()), [at('13:00').toISOString()]);
    });

    it('creating twice with the same idempotency key gives one event', async () => {
      const first = await h.provider.createEvent(meeting('cal-twice'));
      const second = await h.provider.createEvent(meeting('cal-twice'));
      assert.equal(second.id, first.id);
      assert.equal(h.created().length, 1);
    });

    it('findEventByIdempotencyKey finds the created event and returns null for an unknown key', async () => {
      assert.equal(await h.provider.findEventByIdempotencyKey('cal-find'), null);
      const created = await h.provider.createEvent(meeting('cal-find'));
      const found = await h.provider.findEventByIdempotencyKey('cal-find');
      assert.equal(found?.id, created.id);
      assert.equal(found?.idempotencyKey, 'cal-find');
      assert.equal(found?.start.toISOString(), at('13:00').toISOString());
      assert.equal(await h.provider.findEventByIdempotencyKey('cal-other'), null);
    });

    it('without the write grant createEvent fails with a scope error and creates nothing', async () => {
      await assert.rejects(
        h.providerWithoutWrite.createEvent(meeting('cal-no-scope')),
        (e: unknown) => e instanceof ProviderAuthError && e.kind === 'insufficient_scope' && /scope/.test(e.message),
      );
      assert.deepEqual(h.created(), []);
    });

    it('rejects invalid events before any request: end before start, bad attendee, unknown zone, bad key', async () => {
      const invalid: NewEvent[] = [
        meeting('cal-bad-1', { end: at('12:00') }),
        meeting('cal-bad-2', { attendees: ['not an address'] }),
        meeting('cal-bad-3', { attendees: [] }),
        meeting('cal-bad-4', { timeZone: 'Mars/Olympus' }),
        meeting("bad key'"),
      ];
      for (const event of invalid) {
        await assert.rejects(h.provider.createEvent(event), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
      }
      await assert.rejects(h.provider.freeBusy(at('12:00'), at('11:00')), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
      assert.deepEqual(h.created(), []);
    });

    it('a zone spelt as an alias or in another letter case reaches the provider by its canonical name', async () => {
      // The providers refuse "us/eastern"; the client's config may still carry it (Intl takes any case).
      const created = await h.provider.createEvent(meeting('cal-zone-1', { timeZone: 'us/eastern' }));
      assert.equal(created.start.toISOString(), at('13:00').toISOString());
      const updated = await h.provider.updateEvent(created.id, { start: at('15:00'), end: at('15:30'), timeZone: 'US/Eastern' });
      assert.equal(updated.start.toISOString(), at('15:00').toISOString());
    });

    it('updateEvent changes time, title, text and place, and invites the added attendee only once', async () => {
      const created = await h.provider.createEvent(meeting('cal-update-1'));
      const updated = await h.provider.updateEvent(created.id, {
        title: 'Contract review (moved)',
        start: at('15:00'),
        end: at('15:45'),
        timeZone: 'Europe/Berlin',
        description: 'Moved by email.',
        location: 'Room 4',
        addAttendees: [' New@Third.example ', 'dana@customer.example'],
      });
      assert.equal(updated.id, created.id);
      assert.equal(updated.title, 'Contract review (moved)');
      assert.equal(updated.start.toISOString(), at('15:00').toISOString());
      assert.equal(updated.end.toISOString(), at('15:45').toISOString());
      assert.deepEqual([...updated.attendees].sort(), ['dana@customer.example', 'lee@partner.example', 'new@third.example']);
      const now = h.eventNow(created.id);
      assert.equal(now?.title, 'Contract review (moved)');
      assert.equal(now?.start.toISOString(), at('15:00').toISOString());
      assert.equal(now?.description, 'Moved by email.');
      assert.equal(now?.location, 'Room 4');
      assert.deepEqual(h.changes(), [
        { id: created.id, operation: 'update', attendees: now?.attendees ?? [], added: ['new@third.example'], notified: true },
      ]);
      assert.equal(h.created().length, 1, 'an update creates nothing');
      const busy = await h.provider.freeBusy(at('12:00'), at('17:00'));
      assert.deepEqual(busy.map((b) => b.start.toISOString()), [at('15:00').toISOString()]);
      const read = await h.provider.getEvent(created.id);
      assert.equal(read?.organizedByOwner, true);
      assert.equal(read?.cancelled, false);
      // What the invitations of people added later carry, for the gate to check (calendar-edits.ts).
      assert.match(read?.content.description ?? '', /Moved by email\./);
      assert.equal(read?.content.location, 'Room 4');
    });

    it('cancelEvent cancels and notifies once; a repeat never notifies again and the event is gone from free/busy', async () => {
      const created = await h.provider.createEvent(meeting('cal-cancel-1'));
      assert.deepEqual(await h.provider.cancelEvent(created.id, 'Cancelled by email.'), { alreadyCancelled: false });
      assert.equal(h.eventNow(created.id), null);
      // Google still shows the cancelled event; Graph has moved it to Deleted Items (not found).
      await h.provider.cancelEvent(created.id).then(
        (result) => assert.deepEqual(result, { alreadyCancelled: true }),
        (error: unknown) => assert.ok(error instanceof FleetError && error.code === 'not_found', String(error)),
      );
      assert.deepEqual(h.changes().map((c) => [c.id, c.operation, c.notified]), [[created.id, 'cancel', true]]);
      assert.deepEqual(await h.provider.freeBusy(at('12:00'), at('14:00')), []);
      const read = await h.provider.getEvent(created.id);
      assert.ok(read === null || read.cancelled);
      await assert.rejects(h.provider.updateEvent(created.id, { title: 'Back' }), (e: unknown) => e instanceof FleetError && e.code === 'not_found');
    });

    it('an unknown event is null to read and not_found to update or cancel', async () => {
      assert.equal(await h.provider.getEvent(h.unknownEventId), null);
      for (const attempt of [h.provider.updateEvent(h.unknownEventId, { title: 'x' }), h.provider.cancelEvent(h.unknownEventId)]) {
        await assert.rejects(attempt, (e: unknown) => e instanceof FleetError && e.code === 'not_found');
      }
      assert.deepEqual(h.changes(), []);
    });

    it('an event someone else organised is never updated or cancelled', async () => {
      const id = h.addForeignEvent('boss@elsewhere.example', at('10:00'), at('11:00'));
      const read = await h.provider.getEvent(id);
      assert.equal(read?.organizedByOwner, false);
      await assert.rejects(h.provider.cancelEvent(id), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
      await assert.rejects(h.provider.updateEvent(id, { addAttendees: ['x@y.example'] }), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
      assert.deepEqual(h.changes(), []);
      assert.equal(h.eventNow(id)?.start.toISOString(), at('10:00').toISOString());
    });

    it('a whole recurring series is never updated or cancelled: one change would reach every instance and its attendees', async () => {
      const created = await h.provider.createEvent(meeting('cal-series-1'));
      h.makeRecurring(created.id);
      await assert.rejects(h.provider.updateEvent(created.id, { start: at('15:00'), end: at('15:30'), timeZone: 'Europe/Berlin' }), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
      await assert.rejects(h.provider.cancelEvent(created.id), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
      assert.deepEqual(h.changes(), []);
      assert.equal(h.eventNow(created.id)?.start.toISOString(), at('13:00').toISOString());
    });

    it('a read tells a single event, one occurrence of a series (changed on its own) and a whole series apart', async () => {
      const single = await h.provider.createEvent(meeting('cal-recurrence-1'));
      assert.equal((await h.provider.getEvent(single.id))?.recurrence, 'single');
      const occurrence = await h.provider.createEvent(meeting('cal-recurrence-2'));
      h.makeOccurrence(occurrence.id);
      assert.equal((await h.provider.getEvent(occurrence.id))?.recurrence, 'occurrence');
      await h.provider.updateEvent(occurrence.id, { title: 'This week only' });
      assert.equal(h.eventNow(occurrence.id)?.title, 'This week only');
      const series = await h.provider.createEvent(meeting('cal-recurrence-3'));
      h.makeRecurring(series.id);
      assert.equal((await h.provider.getEvent(series.id))?.recurrence, 'series');
    });

    it('every change gives the event a new version; a write guarded by an older one changes nothing and says the event changed', async () => {
      const created = await h.provider.createEvent(meeting('cal-guard-1'));
      const decided = (await h.provider.getEvent(created.id))?.version ?? null;
      assert.ok(decided !== null, 'the provider answers a version');
      h.addAttendeeBehindTheAgent(created.id, 'planted@else.example');
      const current = (await h.provider.getEvent(created.id))?.version ?? null;
      assert.ok(current !== null && current !== decided, 'a change by anyone gives a new version');
      await assert.rejects(h.provider.updateEvent(created.id, { title: 'Moved' }, { version: decided }), (e: unknown) => e instanceof EventChangedError && e.code === 'conflict');
      await assert.rejects(h.provider.cancelEvent(created.id, undefined, { version: decided }), (e: unknown) => e instanceof EventChangedError);
      assert.deepEqual(h.changes(), [], 'nothing written, nobody notified');
      const updated = await h.provider.updateEvent(created.id, { title: 'Moved' }, { version: current });
      assert.equal(updated.title, 'Moved');
      const after = (await h.provider.getEvent(created.id))?.version ?? null;
      assert.ok(after !== null && after !== current, 'the write gave a new version');
      assert.deepEqual(h.writeConditions().slice(0, 1), [current], 'the guarded update asked the provider to write only that version');
    });

    it('an event the owner filled past the attendee limit can still be renamed; only adding to it is refused', async () => {
      const many = Array.from({ length: 100 }, (_, i) => `guest${i}@crowd.example`);
      const created = await h.provider.createEvent(meeting('cal-crowd-1', { attendees: many }));
      h.addAttendeeBehindTheAgent(created.id, 'one-more@crowd.example');
      const renamed = await h.provider.updateEvent(created.id, { title: 'All hands' });
      assert.equal(renamed.title, 'All hands');
      assert.equal(renamed.attendees.length, 101, 'nobody dropped');
      await assert.rejects(h.provider.updateEvent(created.id, { addAttendees: ['late@crowd.example'] }), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
      assert.equal(h.changes().length, 1);
    });

    it('a provider that finds the version stale at the write (412) is EventChangedError, not a failure of another kind', async () => {
      const created = await h.provider.createEvent(meeting('cal-guard-412'));
      const version = (await h.provider.getEvent(created.id))?.version ?? '';
      h.answerNextUpdateAsStale();
      await assert.rejects(
        h.provider.updateEvent(created.id, { title: 'Moved' }, { version }),
        (e: unknown) => e instanceof EventChangedError && e.code === 'conflict' && !e.retryable && /412/.test(e.message),
      );
      assert.deepEqual(h.changes(), []);
    });

    it('rejects empty or half changes and malformed ids before any request', async () => {
      const created = await h.provider.createEvent(meeting('cal-update-bad'));
      const bad = [
        h.provider.updateEvent(created.id, {}),
        h.provider.updateEvent(created.id, { start: at('15:00') }),
        h.provider.updateEvent(created.id, { start: at('15:00'), end: at('14:00'), timeZone: 'UTC' }),
        h.provider.updateEvent(created.id, { start: at('15:00'), end: at('16:00') }),
        h.provider.updateEvent(created.id, { addAttendees: ['not an address'] }),
        h.provider.updateEvent('../primary', { title: 'x' }),
        h.provider.cancelEvent('a/b'),
      ];
      for (const attempt of bad) await assert.rejects(attempt, (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
      assert.deepEqual(h.changes(), []);
    });

    it('without the write grant an update or cancel is a scope error and changes nothing', async () => {
      const created = await h.provider.createEvent(meeting('cal-update-scope'));
      const reader = h.providerWithoutWrite as EventEditingCalendar;
      await assert.rejects(reader.cancelEvent(created.id), (e: unknown) => e instanceof ProviderAuthError && e.kind === 'insufficient_scope');
      assert.deepEqual(h.changes(), []);
    });

    it('revoked consent is a ProviderAuthError (revoked); an early-expired access token is refreshed once', async () => {
      await h.provider.freeBusy(at('09:00'), at('10:00'));
      h.invalidateAccessTokens();
      assert.deepEqual(await h.provider.freeBusy(at('09:00'), at('10:00')), []);
      h.revokeConsent();
      await assert.rejects(
        h.provider.createEvent(meeting('cal-revoked')),
        (e: unknown) => e instanceof ProviderAuthError && e.kind === 'revoked' && e.retryable === false,
      );
      assert.deepEqual(h.created(), []);
    });

    it('429 is a ProviderThrottledError with retryAfterMs, creates nothing, and the next call succeeds', async () => {
      await h.provider.freeBusy(at('09:00'), at('10:00'));
      h.throttle(1, 7);
      await assert.rejects(
        h.provider.createEvent(meeting('cal-throttled')),
        (e: unknown) => e instanceof ProviderThrottledError && e.status === 429 && e.retryAfterMs === 7000 && e.retryable,
      );
      assert.deepEqual(h.created(), []);
      await h.provider.createEvent(meeting('cal-throttled'));
      assert.equal(h.created().length, 1);
    });
  });
}

/** A SecretSource holding secrets in memory, for wiring tests of the connector factory. */
export function memorySecretSource(initial: Record<string, string>): SecretSource & { secrets: Map<string, string> } {
  const secrets = new Map(Object.entries(initial));
  return {
    secrets,
    revoked: false,
    start: async () => {},
    readSecrets: async () => new Map(secrets),
    readSecretData: async () => null,
    writeSecret: async (name, value) => {
      secrets.set(name, value);
    },
    dataKey: () => Buffer.alloc(32),
    onRevoked: () => () => {},
    stop: async () => {},
  };
}
