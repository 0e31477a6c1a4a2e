import { assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { GraphError, type GraphRequest } from '@microsoft/microsoft-graph-client';
import * as z from 'zod';
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

import { checkChanges, checkEventId, checkNewEvent, checkWindow, mergeAttendees } from '../calendar-event-rules.ts';
import {
  BUSY_FIELDS,
  EDIT_FIELDS,
  EVENT_FIELDS,
  CALENDAR_PREFERENCES,
  graphEventSchema,
  toBusyInterval,
  patchedAttendees,
  toCalendarEvent,
  toEventDetails,
  graphDateTime,
  type GraphEvent,
} from './graph-calendar-event.ts';
import { connectGraph, type GraphConnection } from './graph-client.ts';
import { callGraphApi } from './graph-errors.ts';
import type { GraphTokenSource } from './graph-token-source.ts';

export interface GraphCalendarProviderConfig {
  /** The same token source the mail provider uses: one refresh token for the whole mailbox. */
  tokens: GraphTokenSource;
  /** Graph origin without version. Default https://graph.microsoft.com. */
  baseUrl?: string;
  /** Events per calendarView page. Default 100. */
  pageSize?: number;
  /**
   * IANA zone the mailbox owner lives by (the client's configured zone), in which an all-day event's dates
   * begin and end. Default UTC.
   */
  timeZone?: string;
  logger: Logger;
}

const MAX_PAGES = 50;
/**
 * The most of one calendar answer the agent downloads. An invitation is written by whoever sent it: its
 * body or attendee list (100 000 guests) could be far larger than any meeting, and is refused, not read
 * whole into the agent's memory. A page of free/busy or an event with a long agenda is far below it.
 */
const CALENDAR_ANSWER_MAX_BYTES = 2 * 1024 * 1024;

/**
 * CalendarProvider over Microsoft Graph. Free/busy reads `GET /me/calendarView` with `$select` of
 * showAs/start/end only, rather than `POST /me/calendar/getSchedule`: both work under Calendars.Read (and
 * calendarView under Calendars.ReadBasic), but getSchedule needs the mailbox's SMTP address, which only
 * User.Read would tell us, and its schedule items carry subjects and locations we do not want.
 * Creates carry the idempotency key as `transactionId`, Graph's own deduplication of retried creates.
 * Updates and cancels touch only events of the primary calendar that the owner organised (`isOrganizer`);
 * Graph notifies the attendees of an organizer's change itself. Graph finds an item by its id whichever
 * folder the path names, so `/me/calendar/events/{id}` also answers for an event of another calendar of
 * the mailbox (a secondary or shared one): the calendar an event is in (its `calendar` relationship) is
 * compared with the primary calendar's id before the event counts as there.
 * Under a guard an update carries the event's `@odata.etag` as `If-Match` (412 if it changed); the cancel
 * action documents no If-Match, so a cancel's guard is checked against the read just before it.
 */
export class GraphCalendarProvider implements EventEditingCalendar {
  readonly #graph: GraphConnection;
  readonly #logger: Logger;
  readonly #pageSize: number;
  readonly #ownerZone: string;
  /** The primary calendar's id, read once (it does not change); undefined until read or after a failed read. */
  #primaryCalendar: Promise<string> | undefined;

  constructor(config: GraphCalendarProviderConfig) {
    this.#logger = config.logger.child({ adapter: 'graph-calendar' });
    this.#pageSize = config.pageSize ?? 100;
    const zone = canonicalTimeZone(config.timeZone ?? 'UTC');
    if (zone === null) throw new FleetError('invalid_input', 'graph calendar: the owner time zone must be an IANA zone name');
    this.#ownerZone = zone;
    this.#graph = connectGraph(config.tokens, config.baseUrl);
  }

  async freeBusy(from: Date, to: Date): Promise<BusyInterval[]> {
    checkWindow(from, to);
    const busy: BusyInterval[] = [];
    let request: GraphRequest = this.#request('/me/calendarView')
      .query({ startDateTime: from.toISOString(), endDateTime: to.toISOString() })
      .select(BUSY_FIELDS)
      .top(this.#pageSize);
    const followed = new Set<string>();
    for (let page = 0; page < MAX_PAGES; page++) {
      const current = request;
      const answer = this.#parsePage(await this.#call('calendarView', () => current.get()));
      for (const event of answer.events) {
        const interval = toBusyInterval(event, this.#ownerZone);
        if (interval !== null) busy.push(interval);
      }
      if (answer.nextLink === null) return clipBusyIntervals(busy, from, to);
      // A link already followed would page in a circle: no amount of further pages ends it.
      if (followed.has(answer.nextLink)) throw new FleetError('integrity', 'graph calendarView answered a page link it had already given');
      followed.add(answer.nextLink);
      request = this.#request(this.#graph.relative(answer.nextLink));
    }
    throw new FleetError('integrity', `graph calendarView did not end within ${MAX_PAGES} pages`);
  }

  async createEvent(event: NewEvent): Promise<CalendarEvent> {
    const checked = checkNewEvent(event);
    const body = {
      subject: checked.title,
      start: graphDateTime(checked.start, checked.timeZone),
      end: graphDateTime(checked.end, checked.timeZone),
      attendees: checked.attendees.map((address) => ({ emailAddress: { address }, type: 'required' })),
      transactionId: checked.idempotencyKey,
      ...(checked.description === undefined ? {} : { body: { contentType: 'text', content: checked.description } }),
      ...(checked.location === undefined ? {} : { location: { displayName: checked.location } }),
    };
    let created: unknown;
    try {
      created = await this.#call('events.create', () => this.#request('/me/events').post(body));
    } catch (error) {
      if (error instanceof FleetError && error.cause instanceof GraphError && error.cause.code === 'ErrorDuplicateTransactionId') {
        throw new FleetError('conflict', 'graph events.create: this idempotency key was already used for a different event', { cause: error });
      }
      throw error;
    }
    this.#logger.info('graph calendar event created', { op: 'calendar.create', attendees: checked.attendees.length });
    return toCalendarEvent(this.#parseEvent(created), this.#ownerZone);
  }

  async findEventByIdempotencyKey(key: string): Promise<CalendarEvent | null> {
    assertIdempotencyKey(key);
    const answer = this.#parsePage(
      await this.#call('events.list', () =>
        this.#request('/me/events')
          .filter(`transactionId eq '${key.replaceAll("'", "''")}'`)
          .select(EVENT_FIELDS)
          .top(1)
          .get(),
      ),
    );
    const [first] = answer.events;
    return first === undefined ? null : toCalendarEvent(first, this.#ownerZone);
  }

  async getEvent(eventId: string): Promise<EventDetails | null> {
    try {
      const { event, inPrimary } = await this.#readEvent(eventId);
      return inPrimary ? toEventDetails(event, this.#ownerZone) : null;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return null;
      throw error;
    }
  }

  async updateEvent(eventId: string, changes: EventChanges, guard?: WriteGuard): Promise<CalendarEvent> {
    const checked = checkChanges(changes);
    const current = await this.#ownEvent(eventId, 'update', guard);
    if (current.isCancelled === true) throw new FleetError('not_found', 'graph calendar: the event to update was cancelled');
    const attendees = mergeAttendees(toCalendarEvent(current, this.#ownerZone).attendees, checked.addAttendees);
    const zone = checked.timeZone ?? '';
    const body = {
      ...(checked.title === undefined ? {} : { subject: checked.title }),
      ...(checked.start === undefined ? {} : { start: graphDateTime(checked.start, zone) }),
      ...(checked.end === undefined ? {} : { end: graphDateTime(checked.end, zone) }),
      ...(checked.description === undefined ? {} : { body: { contentType: 'text', content: checked.description } }),
      ...(checked.location === undefined ? {} : { location: { displayName: checked.location } }),
      ...(attendees.added.length === 0 ? {} : { attendees: patchedAttendees(current, attendees.added) }),
    };
    let updated: unknown;
    try {
      // Under a guard the PATCH lands only on that version: Graph answers 412 (ErrorIrresolvableConflict) otherwise.
      updated = await this.#call('events.update', () => {
        const request = this.#request(eventPath(eventId));
        return (guard === undefined ? request : request.header('If-Match', guard.version)).patch(body);
      });
    } catch (error) {
      if (error instanceof FleetError && error.cause instanceof GraphError && error.cause.statusCode === 412) {
        throw new EventChangedError('graph events.update: the event changed since it was decided on (412)', { cause: error });
      }
      throw error;
    }
    this.#logger.info('graph calendar event updated', { op: 'calendar.update', added: attendees.added.length });
    return toCalendarEvent(this.#parseEvent(updated), this.#ownerZone);
  }

  async cancelEvent(eventId: string, comment?: string, guard?: WriteGuard): Promise<CancelResult> {
    // Graph moves a cancelled meeting to Deleted Items, where this path no longer finds it: not_found then.
    // Graph documents no If-Match for the cancel action: the guard is checked against the read just before it.
    const current = await this.#ownEvent(eventId, 'cancel', guard);
    if (current.isCancelled === true) return { alreadyCancelled: true };
    await this.#call('events.cancel', () => this.#request(`${eventPath(eventId)}/cancel`).post(comment === undefined ? {} : { comment: comment.slice(0, 2000) }));
    this.#logger.info('graph calendar event cancelled', { op: 'calendar.cancel' });
    return { alreadyCancelled: false };
  }

  /**
   * The event, if it exists in the primary calendar and is cancelled or the owner organised it;
   * EventChangedError when it is live but no longer at the guard's version.
   */
  async #ownEvent(eventId: string, operation: string, guard: WriteGuard | undefined): Promise<GraphEvent> {
    const { event, inPrimary } = await this.#readEvent(eventId);
    if (!inPrimary) {
      throw new FleetError('forbidden', `graph calendar: the agent may not ${operation} an event outside the primary calendar`);
    }
    if (event.isCancelled !== true && event.isOrganizer !== true) {
      throw new FleetError('forbidden', `graph calendar: the agent may not ${operation} an event someone else organised`);
    }
    // A change to a series' master moves or cancels every occurrence and tells every attendee of them all,
    // while the approver was shown one event: only a single occurrence (by its own id) is changed.
    if (event.isCancelled !== true && event.type === 'seriesMaster') {
      throw new FleetError('forbidden', `graph calendar: the agent may not ${operation} a whole recurring series, only one occurrence of it`);
    }
    if (guard !== undefined && event.isCancelled !== true && toEventDetails(event, this.#ownerZone).version !== guard.version) {
      throw new EventChangedError(`graph calendar: the event to ${operation} changed since it was decided on`);
    }
    return event;
  }

  /**
   * The event, and whether it is in the owner's primary calendar (the calendar its `calendar` relationship
   * names). Graph marks that relationship not expandable (`$expand=calendar` is undocumented on an event,
   * and reported to name a calendar the mailbox does not have), so it is its own request: sent together
   * with the event's, one round trip of latency rather than two.
   */
  async #readEvent(eventId: string): Promise<{ event: GraphEvent; inPrimary: boolean }> {
    const path = eventPath(eventId);
    const [event, primary, holder] = await Promise.all([
      this.#call('events.get', () => this.#request(path).select(EDIT_FIELDS).get()).then((value) => this.#parseEvent(value)),
      this.#primaryCalendarId(),
      this.#calendarId(`${path}/calendar`, 'events.calendar'),
    ]);
    return { event, inPrimary: holder === primary };
  }

  #primaryCalendarId(): Promise<string> {
    this.#primaryCalendar ??= this.#calendarId('/me/calendar', 'calendar.get').catch((error: unknown) => {
      this.#primaryCalendar = undefined;
      throw error;
    });
    return this.#primaryCalendar;
  }

  async #calendarId(path: string, operation: string): Promise<string> {
    const parsed = calendarSchema.safeParse(await this.#call(operation, () => this.#request(path).select('id').get()));
    if (!parsed.success) throw new FleetError('integrity', 'graph answered a calendar in an unexpected shape');
    return parsed.data.id;
  }

  #request(path: string): GraphRequest {
    return this.#graph.client.api(path).header('Prefer', CALENDAR_PREFERENCES);
  }

  #parseEvent(value: unknown): GraphEvent {
    const parsed = graphEventSchema.safeParse(value);
    if (!parsed.success) throw new FleetError('integrity', 'graph answered an event in an unexpected shape');
    return parsed.data;
  }

  #parsePage(value: unknown): { events: GraphEvent[]; nextLink: string | null } {
    const page = value as { value?: unknown; '@odata.nextLink'?: unknown } | null;
    if (!Array.isArray(page?.value)) throw new FleetError('integrity', 'graph answered a list in an unexpected shape');
    return {
      events: page.value.map((item) => this.#parseEvent(item)),
      nextLink: typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : null,
    };
  }

  async #call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    this.#logger.debug('graph request', { op: operation });
    return callGraphApi(`calendar ${operation}`, request, { maxResponseBytes: CALENDAR_ANSWER_MAX_BYTES });
  }
}

const calendarSchema = z.object({ id: z.string().min(1) });

function eventPath(eventId: string): string {
  return `/me/calendar/events/${encodeURIComponent(checkEventId(eventId))}`;
}
