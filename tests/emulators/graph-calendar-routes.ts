import type { IncomingHttpHeaders } from 'node:http';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { PRIMARY_CALENDAR_ID, allDayWallTime, dateTimeTimeZone, expandRefusal, findEvent, graphError, isZone, newEventRestId, odataEtag, parseObject, renderedEventId, selection, viewTime, wallTimeIn } from './graph-calendar-wire.ts';
import type { GraphCreatedEvent, GraphEventChange, ShowAs, StoredEvent } from './graph-calendar-wire.ts';
import { GraphEventRoutes } from './graph-calendar-event-routes.ts';

export { isZone, zonedWallTimeToUtc } from './graph-calendar-wire.ts';
export type { GraphCreatedEvent, GraphEventChange } from './graph-calendar-wire.ts';

/**
 * Microsoft Graph v1.0 calendar (the part the agent uses: calendarView, POST /me/events with
 * transactionId, GET /me/events?$filter=transactionId, GET /me/calendar; GET, PATCH and POST cancel of
 * one event and GET of the calendar it is in in graph-calendar-event-routes.ts), served by the Graph emulator with its tokens. Strict where Graph is
 * strict: start and end need a timeZone, POST needs Calendars.ReadWrite, only the $filter shapes Graph
 * supports here, a transactionId reused for a different event is refused.
 */

const READ = ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'];
const WRITE = ['Calendars.ReadWrite'];
const ADDRESS = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;
const TRANSACTION_FILTER = /^transactionId eq '((?:[^']|'')*)'$/;

export class GraphCalendarRoutes {
  readonly #baseUrl: () => string;
  readonly #events: StoredEvent[] = [];
  readonly #created: GraphCreatedEvent[] = [];
  readonly #one: GraphEventRoutes;

  constructor(baseUrl: () => string) {
    this.#baseUrl = baseUrl;
    this.#one = new GraphEventRoutes(this.#events, (event, zone, select, prefer) => this.#render(event, zone, select, prefer));
  }

  /** An invitation someone else organised, on the owner's calendar (the owner is an attendee). Returns its id. */
  addForeignEvent(input: { organizer: string; subject: string; start: Date; end: Date; attendees?: string[] }): string {
    return this.#one.addForeign(input);
  }

  /**
   * Moves the event to another calendar of the mailbox (a secondary or shared one). As at Graph, the event
   * is still found by its id under /me/events and /me/calendar/events: only its `calendar` tells. Its
   * default id changes with the move; its immutable id stays.
   */
  moveToOtherCalendar(id: string, calendarId = 'AAMkCalOther0002'): void {
    const event = this.#find(id);
    event.calendarId = calendarId;
    event.restId = newEventRestId();
  }

  /** Moves the event back to the primary calendar (the owner dragged it back in Outlook): a new default id again. */
  moveToPrimaryCalendar(id: string): void {
    const event = this.#find(id);
    delete event.calendarId;
    event.restId = newEventRestId();
  }

  /** Makes the event the master of a recurring series (as if created with a recurrence pattern). */
  makeSeries(id: string): void {
    const event = this.#find(id);
    event.type = 'seriesMaster';
    event.changeKey = (event.changeKey ?? 0) + 1;
  }

  /** Makes the event one occurrence of a series (changed on its own, it stays one). */
  makeOccurrence(id: string): void {
    const event = this.#find(id);
    event.type = 'occurrence';
    event.changeKey = (event.changeKey ?? 0) + 1;
  }

  /** Someone else adds an attendee to the event: a new `@odata.etag`, no request logged. */
  addAttendeeBehindTheAgent(id: string, address: string): void {
    this.#one.addAttendeeBehindTheAgent(id, address);
  }

  /** The event with this id as it stands now (cancelled ones are gone, as from Graph's calendar), or undefined. */
  event(id: string): (GraphCreatedEvent & { organizer: string | null; body: string | null; location: string | null }) | undefined {
    const e = findEvent(this.#events, id);
    if (e === undefined) return undefined;
    const { start, end, attendees } = e;
    return { ...e, start: new Date(start), end: new Date(end), attendees: attendees.map((a) => ({ ...a })), organizer: e.organizer ?? null, body: e.body ?? null, location: e.location ?? null };
  }

  /** Every accepted PATCH and cancel, in order. */
  changes(): GraphEventChange[] {
    return this.#one.changes();
  }

  /** A busy block on the mailbox's calendar (someone else's meeting), for free/busy. */
  addBusy(start: Date, end: Date, showAs: ShowAs = 'busy'): void {
    this.#events.push({
      id: `AAMkEv${randomId()}`,
      restId: newEventRestId(),
      subject: 'Private',
      start: start.getTime(),
      end: end.getTime(),
      timeZone: 'UTC',
      showAs,
      attendees: [],
      transactionId: null,
      seeded: true,
    });
  }

  /**
   * An all-day busy block (a day off) from `firstDay` for `days` days (dates as YYYY-MM-DD): its times are
   * dates, which Graph answers as midnight whatever zone a request prefers.
   */
  addAllDay(firstDay: string, days = 1, showAs: ShowAs = 'oof'): void {
    const start = Date.parse(`${firstDay}T00:00:00Z`);
    this.#events.push({
      id: `AAMkEv${randomId()}`,
      restId: newEventRestId(),
      subject: 'Day off',
      start,
      end: start + days * 86_400_000,
      timeZone: 'UTC',
      showAs,
      attendees: [],
      transactionId: null,
      seeded: true,
      isAllDay: true,
    });
  }

  /** Every event created through the API (a retried create that Graph deduplicated is not repeated). */
  events(): GraphCreatedEvent[] {
    return this.#created.map((e) => ({ ...e, attendees: e.attendees.map((a) => ({ ...a })) }));
  }

  #find(id: string): StoredEvent {
    const event = findEvent(this.#events, id);
    if (event === undefined) throw new Error(`no event ${id}`);
    return event;
  }

  /** Whether this router serves `path` (a full path such as /v1.0/me/events). */
  owns(path: string): boolean {
    return /^\/v1\.0\/me\/(calendar\/)?(calendarView|events)(\/|$)/.test(path) || path === '/v1.0/me/calendar';
  }

  /** `headers`: the request's (If-Match makes a PATCH conditional); none given, none sent. */
  handle(method: string, path: string, query: URLSearchParams, body: string, prefer: string, scopes: string[], headers: IncomingHttpHeaders): EmulatorResponse {
    const need = (allowed: string[]): EmulatorResponse | null =>
      scopes.some((s) => allowed.includes(s)) ? null : graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const route = `${method} ${path.replace(/^\/v1\.0\/me\/calendar\//, '/v1.0/me/')}`;
    const zone = /outlook\.timezone="([^"]+)"/.exec(prefer)?.[1] ?? 'UTC';
    if (!isZone(zone)) return graphError(400, 'ErrorTimeZoneNotSupported', `The time zone '${zone}' is not supported.`);
    if (route === 'GET /v1.0/me/calendarView') return need(READ) ?? this.#calendarView(path, query, prefer, zone);
    if (route === 'POST /v1.0/me/events') return need(WRITE) ?? this.#create(body, zone, prefer);
    if (route === 'GET /v1.0/me/events') return need(READ) ?? this.#list(query, zone, prefer);
    if (`${method} ${path}` === 'GET /v1.0/me/calendar') return need(READ) ?? json(200, { id: PRIMARY_CALENDAR_ID, name: 'Calendar' });
    const one = /^(\w+) \/v1\.0\/me\/events\/([^/]+)(\/cancel|\/calendar)?$/.exec(route);
    if (one !== null) {
      const [, verb = '', id = '', tail] = one;
      return need(verb === 'GET' ? READ : WRITE) ?? this.#one.handle(verb, decodeURIComponent(id), tail === '/cancel' ? 'cancel' : tail === '/calendar' ? 'calendar' : 'event', query, body, zone, headers, prefer);
    }
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path.split('/').at(-1) ?? ''}'.`);
  }

  #calendarView(path: string, query: URLSearchParams, prefer: string, zone: string): EmulatorResponse {
    const from = viewTime(query.get('startDateTime'));
    const to = viewTime(query.get('endDateTime'));
    if (from === null || to === null) {
      return graphError(400, 'ErrorInvalidParameter', 'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.');
    }
    const pageSize = Number(query.get('$top') ?? /odata\.maxpagesize=(\d+)/.exec(prefer)?.[1] ?? '10');
    const skip = Number(query.get('$skip') ?? '0');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000 || !Number.isInteger(skip) || skip < 0) {
      return graphError(400, 'ErrorInvalidUrlQuery', 'Invalid $top or $skip.');
    }
    const select = selection(query);
    if (select === null) return graphError(400, 'ErrorInvalidProperty', 'Could not find a property named in $select.');
    const refused = expandRefusal(query);
    if (refused !== null) return refused;
    // In stored order, not sorted: ordering is the caller's job unless it asks for $orderby.
    // An all-day event's dates mean other instants in each zone: one within a day of the window is listed.
    const slack = (e: StoredEvent) => (e.isAllDay === true ? 86_400_000 : 0);
    const matching = this.#events.filter((e) => e.start - slack(e) < to && e.end + slack(e) > from);
    const page = matching.slice(skip, skip + pageSize);
    const result: Record<string, unknown> = { '@odata.context': 'emulator', value: page.map((e) => this.#render(e, zone, select, prefer)) };
    if (skip + pageSize < matching.length) {
      const next = new URLSearchParams(query);
      next.set('$skip', String(skip + pageSize));
      result['@odata.nextLink'] = `${this.#baseUrl()}${path}?${next.toString()}`;
    }
    return json(200, result);
  }

  #create(body: string, zone: string, prefer: string): EmulatorResponse {
    const request = parseObject(body);
    if (request === null) return graphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
    const start = dateTimeTimeZone(request['start'], 'start');
    if (typeof start === 'object') return start;
    const end = dateTimeTimeZone(request['end'], 'end');
    if (typeof end === 'object') return end;
    if (end < start) return graphError(400, 'ErrorInvalidRequest', 'The end time of the event must be after its start time.');
    const attendees: { address: string; type: string }[] = [];
    const rawAttendees = request['attendees'] ?? [];
    if (!Array.isArray(rawAttendees)) return graphError(400, 'BadRequest', 'Invalid attendees.');
    for (const attendee of rawAttendees as { emailAddress?: { address?: unknown }; type?: unknown }[]) {
      const address = attendee?.emailAddress?.address;
      const type = attendee?.type ?? 'required';
      if (typeof address !== 'string' || !ADDRESS.test(address) || typeof type !== 'string' || !['required', 'optional', 'resource'].includes(type)) {
        return graphError(400, 'ErrorInvalidRecipients', 'At least one recipient is not valid.');
      }
      attendees.push({ address: address.toLowerCase(), type });
    }
    const subject = typeof request['subject'] === 'string' ? request['subject'] : '';
    const transactionId = request['transactionId'];
    if (transactionId !== undefined && (typeof transactionId !== 'string' || transactionId === '')) {
      return graphError(400, 'BadRequest', 'Invalid transactionId.');
    }
    const timeZone = String((request['start'] as { timeZone: string }).timeZone);
    if (typeof transactionId === 'string') {
      const earlier = this.#events.find((e) => e.transactionId === transactionId);
      if (earlier !== undefined) {
        // Graph's deduplication: the same create repeated returns the event it already made.
        if (earlier.subject === subject && earlier.start === start && earlier.end === end) return json(201, this.#render(earlier, zone, undefined, prefer));
        return graphError(400, 'ErrorDuplicateTransactionId', "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event.");
      }
    }
    const event: StoredEvent = {
      id: `AAMkEv${randomId()}`,
      restId: newEventRestId(),
      subject,
      start,
      end,
      timeZone,
      showAs: request['showAs'] === 'free' ? 'free' : 'busy',
      attendees,
      transactionId: typeof transactionId === 'string' ? transactionId : null,
      seeded: false,
      body: typeof (request['body'] as { content?: unknown } | undefined)?.content === 'string' ? (request['body'] as { content: string }).content : null,
      location: typeof (request['location'] as { displayName?: unknown } | undefined)?.displayName === 'string' ? (request['location'] as { displayName: string }).displayName : null,
    };
    this.#events.push(event);
    this.#created.push({
      id: event.id,
      subject,
      start: new Date(start),
      end: new Date(end),
      timeZone,
      attendees: attendees.map((a) => ({ ...a })),
      transactionId: event.transactionId,
    });
    return json(201, this.#render(event, zone, undefined, prefer));
  }

  #list(query: URLSearchParams, zone: string, prefer: string): EmulatorResponse {
    const filter = query.get('$filter');
    let events = this.#events.filter((e) => !e.seeded);
    if (filter !== null) {
      const match = TRANSACTION_FILTER.exec(filter);
      if (match === null) return graphError(400, 'ErrorInvalidUrlQueryFilter', 'The query filter contains one or more invalid nodes.');
      const value = (match[1] ?? '').replaceAll("''", "'");
      events = events.filter((e) => e.transactionId === value);
    }
    const select = selection(query);
    if (select === null) return graphError(400, 'ErrorInvalidProperty', 'Could not find a property named in $select.');
    const refused = expandRefusal(query);
    if (refused !== null) return refused;
    const top = Number(query.get('$top') ?? '10');
    if (!Number.isInteger(top) || top < 1 || top > 1000) return graphError(400, 'ErrorInvalidUrlQuery', 'Invalid $top.');
    return json(200, { '@odata.context': 'emulator', value: events.slice(0, top).map((e) => this.#render(e, zone, select, prefer)) });
  }

  /** `prefer`: the request's Prefer header, which decides the id it is told (immutable or default). */
  #render(event: StoredEvent, zone: string, select: string[] | undefined, prefer: string): Record<string, unknown> {
    const full: Record<string, unknown> = {
      '@odata.etag': odataEtag(event),
      id: renderedEventId(event, prefer),
      subject: event.subject,
      isCancelled: false,
      isOrganizer: (event.organizer ?? null) === null,
      showAs: event.showAs,
      isAllDay: event.isAllDay === true,
      start: { dateTime: event.isAllDay === true ? allDayWallTime(event.start) : wallTimeIn(event.start, zone), timeZone: zone },
      end: { dateTime: event.isAllDay === true ? allDayWallTime(event.end) : wallTimeIn(event.end, zone), timeZone: zone },
      originalStartTimeZone: event.timeZone,
      originalEndTimeZone: event.timeZone,
      attendees: event.attendees.map((a) => ({
        type: a.type,
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { address: a.address, name: a.address },
      })),
      transactionId: event.transactionId,
      organizer: { emailAddress: { address: event.organizer ?? 'organizer@mailbox.example' } },
      body: { contentType: 'text', content: event.body ?? '' },
      location: { displayName: event.location ?? '' },
      type: event.type ?? 'singleInstance',
    };
    if (select === undefined) return full;
    // An annotation, not a property: Graph renders it whatever $select names.
    return Object.fromEntries(Object.entries(full).filter(([key]) => key === 'id' || key === '@odata.etag' || select.includes(key)));
  }
}
