import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { canonicalTimeZone } from '@agent-fleet/kernel/time-zone';
import {
  EventChangedError,
  clipBusyIntervals,
  type BusyInterval,
  type CalendarEvent,
  type CancelResult,
  type EventChanges,
  type EventDetails,
  type EventEditingCalendar,
  type NewEvent,
  type WriteGuard,
} from '../../ports/calendar-provider.ts';

import { checkChanges, checkEventId, checkNewEvent, checkWindow, mergeAttendees, parseProviderDate } from '../calendar-event-rules.ts';
import { toCalendarEvent, toEventDetails } from './google-calendar-event.ts';
import { googleClientFor, type GoogleAuth, type RotatingOAuth2Client } from '../gmail/gmail-auth.ts';
import { statusOf } from '../gmail/gmail-errors.ts';
import { callGoogleApi } from '../gmail/google-call.ts';
import { boundedAnswer } from '../gmail/gmail-bounded-response.ts';
import { KEY_PROPERTY, eventIdFor } from './google-event-id.ts';

export interface GoogleCalendarProviderConfig {
  /** Pass the mailbox's client (`{ client }`): one grant, one refresh token. */
  auth: GoogleAuth;
  /** API root, with trailing slash. Default: https://www.googleapis.com/. */
  rootUrl?: string;
  /** Per-request timeout, ms. Default 30 000. */
  timeoutMs?: number;
  /**
   * IANA zone the mailbox owner lives by (the client's configured zone), in which an all-day event's dates
   * begin and end. Default UTC.
   */
  timeZone?: string;
  logger: Logger;
}

const CALENDAR = 'primary';
/**
 * The most of one calendar answer the agent downloads. An invitation is written by whoever sent it: its
 * description or guest list (100 000 guests) could be far larger than any meeting, and is refused, not
 * read whole into the agent's memory. A free/busy answer or an event with a long agenda is far below it.
 */
const CALENDAR_ANSWER_MAX_BYTES = 2 * 1024 * 1024;

/**
 * CalendarProvider over the Google Calendar API v3 (googleapis). Updates and cancels touch only events of
 * the primary calendar whose organizer is the owner (`organizer.self`), and always with `sendUpdates=all`;
 * under a guard they carry the event's `etag` as `If-Match`, so Google writes nothing (412) if it changed.
 */
export class GoogleCalendarProvider implements EventEditingCalendar {
  readonly #calendar: calendar_v3.Calendar;
  readonly #auth: RotatingOAuth2Client;
  readonly #logger: Logger;
  readonly #ownerZone: string;

  constructor(config: GoogleCalendarProviderConfig) {
    this.#logger = config.logger.child({ adapter: 'google-calendar' });
    const zone = canonicalTimeZone(config.timeZone ?? 'UTC');
    if (zone === null) throw new FleetError('invalid_input', 'google calendar: the owner time zone must be an IANA zone name');
    this.#ownerZone = zone;
    this.#auth = googleClientFor(config.auth);
    this.#calendar = new calendar_v3.Calendar({
      auth: this.#auth,
      rootUrl: config.rootUrl ?? 'https://www.googleapis.com/',
      // Retries belong to the caller; a create is made safe to repeat by its derived id, not by blind retries.
      retry: false,
      timeout: config.timeoutMs ?? 30_000,
      adapter: boundedAnswer(CALENDAR_ANSWER_MAX_BYTES),
    });
  }

  async freeBusy(from: Date, to: Date): Promise<BusyInterval[]> {
    checkWindow(from, to);
    const response = await this.#call('freebusy.query', () =>
      this.#calendar.freebusy.query({
        requestBody: { timeMin: from.toISOString(), timeMax: to.toISOString(), timeZone: 'UTC', items: [{ id: CALENDAR }] },
      }),
    );
    const entry = response.data.calendars?.[CALENDAR];
    if (entry === undefined) throw new FleetError('integrity', 'google calendar freebusy answered without the primary calendar');
    const reason = entry.errors?.[0]?.reason;
    if (typeof reason === 'string') throw new FleetError('unavailable', `google calendar freebusy: calendar error (${reason})`);
    const busy = (entry.busy ?? []).map((period) => ({
      start: parseProviderDate(period.start, 'busy start', 'google calendar'),
      end: parseProviderDate(period.end, 'busy end', 'google calendar'),
    }));
    return clipBusyIntervals(busy, from, to);
  }

  async createEvent(event: NewEvent): Promise<CalendarEvent> {
    const checked = checkNewEvent(event);
    const id = eventIdFor(checked.idempotencyKey);
    const requestBody: calendar_v3.Schema$Event = {
      id,
      summary: checked.title,
      // UTC instants with the zone named: unambiguous, and shown in the zone the event belongs to.
      start: { dateTime: checked.start.toISOString(), timeZone: checked.timeZone },
      end: { dateTime: checked.end.toISOString(), timeZone: checked.timeZone },
      attendees: checked.attendees.map((email) => ({ email })),
      extendedProperties: { private: { [KEY_PROPERTY]: checked.idempotencyKey } },
      ...(checked.description === undefined ? {} : { description: checked.description }),
      ...(checked.location === undefined ? {} : { location: checked.location }),
    };
    try {
      const response = await this.#call('events.insert', () =>
        this.#calendar.events.insert({ calendarId: CALENDAR, sendUpdates: 'all', requestBody }),
      );
      this.#logger.info('google calendar event created', { op: 'calendar.create', attendees: checked.attendees.length });
      return toCalendarEvent(response.data, this.#ownerZone);
    } catch (error) {
      if (!(error instanceof FleetError && error.code === 'conflict')) throw error;
    }
    // 409: an earlier attempt with this key got through; its invitations went out then.
    const existing = await this.findEventByIdempotencyKey(checked.idempotencyKey);
    if (existing === null) throw new FleetError('conflict', 'google calendar: event id taken but the event is not readable');
    this.#logger.info('google calendar event already existed', { op: 'calendar.create' });
    return existing;
  }

  async findEventByIdempotencyKey(key: string): Promise<CalendarEvent | null> {
    assertIdempotencyKey(key);
    let data: calendar_v3.Schema$Event;
    try {
      data = (await this.#call('events.get', () => this.#calendar.events.get({ calendarId: CALENDAR, eventId: eventIdFor(key) }))).data;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return null;
      throw error;
    }
    const event = toCalendarEvent(data, this.#ownerZone);
    if (event.idempotencyKey !== key) throw new FleetError('integrity', 'google calendar event under a derived id carries another key');
    return event;
  }

  async getEvent(eventId: string): Promise<EventDetails | null> {
    const id = checkEventId(eventId);
    try {
      const response = await this.#call('events.get', () => this.#calendar.events.get({ calendarId: CALENDAR, eventId: id }));
      return toEventDetails(response.data, this.#ownerZone);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return null;
      throw error;
    }
  }

  async updateEvent(eventId: string, changes: EventChanges, guard?: WriteGuard): Promise<CalendarEvent> {
    const checked = checkChanges(changes);
    const current = await this.#ownEvent(eventId, 'update', guard);
    if (current.details.cancelled) throw new FleetError('not_found', 'google calendar: the event to update was cancelled');
    const attendees = mergeAttendees(current.details.attendees, checked.addAttendees);
    const zone = checked.timeZone ?? '';
    const requestBody: calendar_v3.Schema$Event = {
      ...(checked.title === undefined ? {} : { summary: checked.title }),
      ...(checked.start === undefined ? {} : { start: { dateTime: checked.start.toISOString(), timeZone: zone } }),
      ...(checked.end === undefined ? {} : { end: { dateTime: checked.end.toISOString(), timeZone: zone } }),
      ...(checked.description === undefined ? {} : { description: checked.description }),
      ...(checked.location === undefined ? {} : { location: checked.location }),
      // A patch replaces the whole list: the invited keep their entries (and answers), the added join them.
      ...(attendees.added.length === 0 ? {} : { attendees: [...(current.data.attendees ?? []), ...attendees.added.map((email) => ({ email }))] }),
    };
    const response = await this.#guarded('events.patch', guard, (options) =>
      this.#calendar.events.patch({ calendarId: CALENDAR, eventId: current.details.id, sendUpdates: 'all', requestBody }, options),
    );
    this.#logger.info('google calendar event updated', { op: 'calendar.update', added: attendees.added.length });
    return toCalendarEvent(response.data, this.#ownerZone);
  }

  async cancelEvent(eventId: string, _comment?: string, guard?: WriteGuard): Promise<CancelResult> {
    const current = await this.#ownEvent(eventId, 'cancel', guard);
    if (current.details.cancelled) return { alreadyCancelled: true };
    try {
      await this.#guarded('events.delete', guard, (options) =>
        this.#calendar.events.delete({ calendarId: CALENDAR, eventId: current.details.id, sendUpdates: 'all' }, options),
      );
    } catch (error) {
      // 410: deleted between our read and the delete (an earlier attempt got through): cancelled all the same.
      if (error instanceof FleetError && statusOf(error.cause) === 410) return { alreadyCancelled: true };
      throw error;
    }
    this.#logger.info('google calendar event cancelled', { op: 'calendar.cancel' });
    return { alreadyCancelled: false };
  }

  /**
   * The event, if it exists and is cancelled or the owner organised it; not_found or forbidden otherwise;
   * EventChangedError when it is live but no longer at the guard's version.
   */
  async #ownEvent(eventId: string, operation: string, guard: WriteGuard | undefined): Promise<{ data: calendar_v3.Schema$Event; details: EventDetails }> {
    const id = checkEventId(eventId);
    const data = (await this.#call('events.get', () => this.#calendar.events.get({ calendarId: CALENDAR, eventId: id }))).data;
    const details = toEventDetails(data, this.#ownerZone);
    // A cancelled event changes nothing whoever organised it (and a deleted one may not say).
    if (!details.cancelled && !details.organizedByOwner) throw new FleetError('forbidden', `google calendar: the agent may not ${operation} an event someone else organised`);
    // A change to a series' master moves or cancels every instance and tells every attendee of them all,
    // while the approver was shown one event: only a single instance (by its own id) is changed.
    if (!details.cancelled && details.recurrence === 'series') {
      throw new FleetError('forbidden', `google calendar: the agent may not ${operation} a whole recurring series, only one instance of it`);
    }
    if (guard !== undefined && !details.cancelled && details.version !== guard.version) {
      throw new EventChangedError(`google calendar: the event to ${operation} changed since it was decided on`);
    }
    return { data, details };
  }

  /**
   * A write that, under a guard, carries the version as `If-Match`: Google answers 412 Precondition Failed
   * when the event changed since (someone added a guest between our read and this write), and writes nothing.
   */
  async #guarded<T>(operation: string, guard: WriteGuard | undefined, request: (options: { headers?: Record<string, string> }) => Promise<T>): Promise<T> {
    try {
      return await this.#call(operation, () => request(guard === undefined ? {} : { headers: { 'If-Match': guard.version } }));
    } catch (error) {
      if (error instanceof FleetError && statusOf(error.cause) === 412) {
        throw new EventChangedError(`google calendar ${operation}: the event changed since it was decided on (412)`, { cause: error });
      }
      throw error;
    }
  }

  async #call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    this.#logger.debug('google calendar request', { op: operation });
    return callGoogleApi(this.#auth, `calendar ${operation}`, request);
  }
}
