import type { IncomingHttpHeaders } from 'node:http';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { attendeeList, etagOf, eventTime, googleError, parseObject, preconditionFailed, rfc3339, stringRecord, unknownName } from './google-calendar-wire.ts';
import type { GoogleCreatedEvent, GoogleEventChange, GoogleEventView, StoredEvent } from './google-calendar-wire.ts';

export type { GoogleCreatedEvent, GoogleEventChange, GoogleEventView } from './google-calendar-wire.ts';

/**
 * Google Calendar API v3 (the part the agent uses: freeBusy, events.insert, events.get, events.patch and
 * events.delete on the primary calendar), served by the Gmail emulator under /calendar/v3 with the same
 * access tokens. Strict where Google is strict: client-chosen ids must be base32hex (5-1024), a reused id
 * is 409 duplicate, dateTime without an offset needs a timeZone, an empty time range is refused, unknown
 * JSON names are refused, scopes are checked per method, a deleted event is 410 to patch or delete again
 * (and reads back with status cancelled), and only the organizer may change the time, title or guests.
 * Every change gives the event a new `etag`; a patch or delete with a stale `If-Match` is 412 Precondition
 * Failed and writes nothing, one without `If-Match` is unconditional (Google's conditional modification).
 */

const SCOPE = 'https://www.googleapis.com/auth/';
const FREEBUSY_SCOPES = ['calendar', 'calendar.readonly', 'calendar.freebusy', 'calendar.events.freebusy'].map((s) => SCOPE + s);
const READ_EVENT_SCOPES = ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'].map((s) => SCOPE + s);
const WRITE_EVENT_SCOPES = ['calendar', 'calendar.events'].map((s) => SCOPE + s);
const EVENT_ID = /^[0-9a-v]{5,1024}$/;
const SEND_UPDATES = ['all', 'externalOnly', 'none'];
/** The Event fields the emulator accepts in a write (a subset of Google's writable ones); anything else is refused. */
const WRITABLE = new Set(['id', 'summary', 'description', 'location', 'start', 'end', 'attendees', 'extendedProperties']);
/** Fields only the organizer may change. */
const ORGANIZER_ONLY = ['summary', 'description', 'location', 'start', 'end', 'attendees'];

export class GoogleCalendarRoutes {
  readonly #mailbox: string;
  readonly #events = new Map<string, StoredEvent>();
  readonly #busy: { start: number; end: number }[] = [];
  readonly #created: GoogleCreatedEvent[] = [];
  readonly #changes: GoogleEventChange[] = [];
  #versions = 0;

  constructor(mailbox: string) {
    this.#mailbox = mailbox;
  }

  /** A busy block on the primary calendar (someone else's meeting), for free/busy. */
  addBusy(start: Date, end: Date): void {
    this.#busy.push({ start: start.getTime(), end: end.getTime() });
  }

  /** Every event created through the API, in order, with its attendees. */
  events(): GoogleCreatedEvent[] {
    return this.#created.map((e) => ({ ...e, attendees: [...e.attendees] }));
  }

  /** An invitation someone else organised, on the owner's primary calendar (the owner is an attendee). Returns its id. */
  addForeignEvent(input: { organizer: string; summary: string; start: Date; end: Date; attendees?: string[] }): string {
    const id = randomId('f').replace(/[^0-9a-v]/g, '0');
    this.#events.set(id, {
      id,
      summary: input.summary,
      start: { instant: input.start.getTime(), timeZone: 'UTC' },
      end: { instant: input.end.getTime(), timeZone: 'UTC' },
      attendees: [...new Set([input.organizer, this.#mailbox, ...(input.attendees ?? [])].map((a) => a.toLowerCase()))],
      description: null,
      location: null,
      privateProperties: {},
      created: new Date().toISOString(),
      status: 'confirmed',
      organizer: input.organizer.toLowerCase(),
      sequence: 0,
      version: ++this.#versions,
    });
    return id;
  }

  /** Makes the event the master of a recurring series (as if created with this recurrence). */
  makeRecurring(id: string, rule = 'RRULE:FREQ=WEEKLY'): void {
    const event = this.#events.get(id);
    if (event === undefined) throw new Error(`no event ${id}`);
    event.recurrence = [rule];
    event.version = ++this.#versions;
  }

  /** Makes the event one instance of the series whose master has id `masterId` (it carries `recurringEventId`). */
  makeInstance(id: string, masterId: string): void {
    const event = this.#events.get(id);
    if (event === undefined) throw new Error(`no event ${id}`);
    event.recurringEventId = masterId;
    event.version = ++this.#versions;
  }

  /** Someone else (the owner in their own calendar, a guest allowed to invite) adds a guest: a new etag, no request logged. */
  addGuestBehindTheAgent(id: string, email: string): void {
    const event = this.#events.get(id);
    if (event === undefined) throw new Error(`no event ${id}`);
    event.attendees = [...new Set([...event.attendees, email.toLowerCase()])];
    event.version = ++this.#versions;
  }

  /** The event with this id as it stands now (cancelled ones included), or undefined. */
  event(id: string): GoogleEventView | undefined {
    const e = this.#events.get(id);
    if (e === undefined) return undefined;
    return {
      id,
      summary: e.summary,
      start: new Date(e.start.instant),
      end: new Date(e.end.instant),
      timeZone: e.start.timeZone,
      attendees: [...e.attendees],
      description: e.description,
      location: e.location,
      status: e.status,
      organizer: e.organizer,
    };
  }

  /** Every accepted patch and delete, in order. */
  changes(): GoogleEventChange[] {
    return this.#changes.map((c) => ({ ...c, attendees: [...c.attendees], added: [...c.added] }));
  }

  /** `path` is what follows /calendar/v3, e.g. /freeBusy. */
  /** `headers`: the request's (If-Match makes a patch or delete conditional); none given, none sent. */
  handle(method: string, path: string, query: URLSearchParams, body: string, scopes: string[], headers: IncomingHttpHeaders): EmulatorResponse {
    const need = (allowed: string[]): EmulatorResponse | null =>
      scopes.some((s) => allowed.includes(s))
        ? null
        : googleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED');
    const route = `${method} ${path}`;
    let m: RegExpExecArray | null;
    if (route === 'POST /freeBusy') return need(FREEBUSY_SCOPES) ?? this.#freeBusy(body);
    if ((m = /^POST \/calendars\/([^/]+)\/events$/.exec(route))) {
      return need(WRITE_EVENT_SCOPES) ?? this.#calendarOr404(m[1] ?? '') ?? this.#insert(query, body);
    }
    if ((m = /^GET \/calendars\/([^/]+)\/events\/([^/]+)$/.exec(route))) {
      return need(READ_EVENT_SCOPES) ?? this.#calendarOr404(m[1] ?? '') ?? this.#get(decodeURIComponent(m[2] ?? ''));
    }
    if ((m = /^(PATCH|DELETE) \/calendars\/([^/]+)\/events\/([^/]+)$/.exec(route))) {
      const id = decodeURIComponent(m[3] ?? '');
      const ifMatch = headers['if-match'];
      const write = m[1] === 'PATCH' ? () => this.#patch(id, query, body, ifMatch) : () => this.#delete(id, query, ifMatch);
      return need(WRITE_EVENT_SCOPES) ?? this.#calendarOr404(m[2] ?? '') ?? write();
    }
    if (/^\/calendars\/[^/]+\/events(\/[^/]+)?$/.test(path)) return googleError(405, 'Method Not Allowed', 'httpMethodNotAllowed', 'INVALID_ARGUMENT');
    return googleError(404, 'Not Found', 'notFound', 'NOT_FOUND');
  }

  #calendarOr404(id: string): EmulatorResponse | null {
    const calendar = decodeURIComponent(id);
    return calendar === 'primary' || calendar === this.#mailbox ? null : googleError(404, 'Not Found', 'notFound', 'NOT_FOUND');
  }

  #freeBusy(body: string): EmulatorResponse {
    const request = parseObject(body);
    if (request === null) return googleError(400, 'Invalid JSON payload received.', 'parseError', 'INVALID_ARGUMENT');
    const timeMin = rfc3339(request['timeMin']);
    const timeMax = rfc3339(request['timeMax']);
    if (timeMin === null) return googleError(400, 'Missing timeMin.', 'required', 'INVALID_ARGUMENT');
    if (timeMax === null) return googleError(400, 'Missing timeMax.', 'required', 'INVALID_ARGUMENT');
    if (timeMax <= timeMin) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty', 'INVALID_ARGUMENT');
    const items = request['items'];
    if (!Array.isArray(items) || items.length === 0) return googleError(400, 'Missing items.', 'required', 'INVALID_ARGUMENT');
    const calendars: Record<string, unknown> = {};
    for (const item of items as { id?: unknown }[]) {
      const id = typeof item?.id === 'string' ? item.id : '';
      if (id !== 'primary' && id !== this.#mailbox) {
        calendars[id] = { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
        continue;
      }
      // In stored order and not clipped: ordering and clipping are the adapter's job.
      const blocks = [...this.#busy, ...[...this.#events.values()].filter((e) => e.status === 'confirmed').map((e) => ({ start: e.start.instant, end: e.end.instant }))];
      calendars[id] = {
        busy: blocks
          .filter((b) => b.start < timeMax && b.end > timeMin)
          .map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString() })),
      };
    }
    return json(200, {
      kind: 'calendar#freeBusy',
      timeMin: new Date(timeMin).toISOString(),
      timeMax: new Date(timeMax).toISOString(),
      calendars,
    });
  }

  #insert(query: URLSearchParams, body: string): EmulatorResponse {
    const sendUpdates = query.get('sendUpdates');
    if (sendUpdates !== null && !SEND_UPDATES.includes(sendUpdates)) return invalidSendUpdates();
    const request = parseObject(body);
    if (request === null) return googleError(400, 'Invalid JSON payload received.', 'parseError', 'INVALID_ARGUMENT');
    const unknown = Object.keys(request).find((key) => !WRITABLE.has(key));
    if (unknown !== undefined) return unknownName(unknown);
    const rawId = request['id'];
    if (rawId !== undefined && (typeof rawId !== 'string' || !EVENT_ID.test(rawId))) {
      return googleError(400, 'Invalid resource id value.', 'invalid', 'INVALID_ARGUMENT');
    }
    const start = eventTime(request['start'], 'start');
    if ('error' in start) return start.error;
    const end = eventTime(request['end'], 'end');
    if ('error' in end) return end.error;
    if (end.instant <= start.instant) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty', 'INVALID_ARGUMENT');
    const emails = attendeeList(request['attendees'] ?? []);
    if ('error' in emails) return emails.error;
    const id = typeof rawId === 'string' ? rawId : randomId('e').replace(/[^0-9a-v]/g, '0');
    if (this.#events.has(id)) return googleError(409, 'The requested identifier already exists.', 'duplicate', 'ALREADY_EXISTS');
    const extended = request['extendedProperties'] as { private?: unknown } | undefined;
    const privateProperties = stringRecord(extended?.private);
    if (privateProperties === null) return googleError(400, 'Invalid extendedProperties.', 'invalid', 'INVALID_ARGUMENT');
    const stored: StoredEvent = {
      id,
      summary: typeof request['summary'] === 'string' ? request['summary'] : '',
      start,
      end,
      attendees: emails,
      description: typeof request['description'] === 'string' ? request['description'] : null,
      location: typeof request['location'] === 'string' ? request['location'] : null,
      privateProperties,
      created: new Date().toISOString(),
      status: 'confirmed',
      organizer: this.#mailbox.toLowerCase(),
      sequence: 0,
      version: ++this.#versions,
    };
    this.#events.set(id, stored);
    this.#created.push({
      id,
      summary: stored.summary,
      start: new Date(start.instant),
      end: new Date(end.instant),
      timeZone: start.timeZone,
      attendees: [...emails],
      sendUpdates,
      privateProperties: { ...privateProperties },
    });
    return json(200, this.#render(stored));
  }

  #get(id: string): EmulatorResponse {
    const event = this.#events.get(id);
    return event === undefined ? googleError(404, 'Not Found', 'notFound', 'NOT_FOUND') : json(200, this.#render(event));
  }

  #patch(id: string, query: URLSearchParams, body: string, ifMatch: string | string[] | undefined): EmulatorResponse {
    const sendUpdates = query.get('sendUpdates');
    if (sendUpdates !== null && !SEND_UPDATES.includes(sendUpdates)) return invalidSendUpdates();
    const event = this.#events.get(id);
    if (event === undefined) return googleError(404, 'Not Found', 'notFound', 'NOT_FOUND');
    if (event.status === 'cancelled') return googleError(410, 'Resource has been deleted', 'deleted', 'NOT_FOUND');
    const stale = preconditionFailed(etagOf(event.version), ifMatch);
    if (stale !== null) return stale;
    const request = parseObject(body);
    if (request === null) return googleError(400, 'Invalid JSON payload received.', 'parseError', 'INVALID_ARGUMENT');
    const unknown = Object.keys(request).find((key) => !WRITABLE.has(key) || key === 'id');
    if (unknown !== undefined) return unknownName(unknown);
    if (event.organizer !== this.#mailbox.toLowerCase() && ORGANIZER_ONLY.some((key) => key in request)) {
      return googleError(403, 'The operation can only be performed by the event organizer.', 'forbiddenForNonOrganizer', 'PERMISSION_DENIED');
    }
    const start = request['start'] === undefined ? event.start : eventTime(request['start'], 'start');
    if ('error' in start) return start.error;
    const end = request['end'] === undefined ? event.end : eventTime(request['end'], 'end');
    if ('error' in end) return end.error;
    if (end.instant <= start.instant) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty', 'INVALID_ARGUMENT');
    const attendees = request['attendees'] === undefined ? event.attendees : attendeeList(request['attendees']);
    if ('error' in attendees) return attendees.error;
    for (const key of ['summary', 'description', 'location'] as const) {
      if (request[key] !== undefined && typeof request[key] !== 'string') return googleError(400, `Invalid value for ${key}.`, 'invalid', 'INVALID_ARGUMENT');
    }
    const added = attendees.filter((a) => !event.attendees.includes(a));
    Object.assign(event, {
      start,
      end,
      attendees: [...new Set(attendees)],
      summary: (request['summary'] as string | undefined) ?? event.summary,
      description: (request['description'] as string | undefined) ?? event.description,
      location: (request['location'] as string | undefined) ?? event.location,
      sequence: event.sequence + 1,
      version: ++this.#versions,
    });
    this.#changes.push({ id, method: 'PATCH', sendUpdates, attendees: [...event.attendees], added, byOrganizer: true });
    return json(200, this.#render(event));
  }

  #delete(id: string, query: URLSearchParams, ifMatch: string | string[] | undefined): EmulatorResponse {
    const sendUpdates = query.get('sendUpdates');
    if (sendUpdates !== null && !SEND_UPDATES.includes(sendUpdates)) return invalidSendUpdates();
    const event = this.#events.get(id);
    if (event === undefined) return googleError(404, 'Not Found', 'notFound', 'NOT_FOUND');
    if (event.status === 'cancelled') return googleError(410, 'Resource has been deleted', 'deleted', 'NOT_FOUND');
    const stale = preconditionFailed(etagOf(event.version), ifMatch);
    if (stale !== null) return stale;
    // An attendee's delete only takes the event off their own calendar; the organizer's cancels the meeting.
    event.status = 'cancelled';
    event.version = ++this.#versions;
    this.#changes.push({ id, method: 'DELETE', sendUpdates, attendees: [...event.attendees], added: [], byOrganizer: event.organizer === this.#mailbox.toLowerCase() });
    return { status: 204 };
  }

  #render(event: StoredEvent): Record<string, unknown> {
    const time = (t: StoredEvent['start']) => ({
      dateTime: new Date(t.instant).toISOString().replace('.000Z', 'Z'),
      ...(t.timeZone === null ? {} : { timeZone: t.timeZone }),
    });
    return {
      kind: 'calendar#event',
      etag: etagOf(event.version),
      id: event.id,
      status: event.status,
      htmlLink: `https://www.google.com/calendar/event?eid=${event.id}`,
      created: event.created,
      updated: event.created,
      summary: event.summary,
      ...(event.description === null ? {} : { description: event.description }),
      ...(event.location === null ? {} : { location: event.location }),
      creator: { email: event.organizer, ...(event.organizer === this.#mailbox.toLowerCase() ? { self: true } : {}) },
      organizer: { email: event.organizer, ...(event.organizer === this.#mailbox.toLowerCase() ? { self: true } : {}) },
      start: time(event.start),
      end: time(event.end),
      ...(event.recurrence === undefined ? {} : { recurrence: [...event.recurrence] }),
      ...(event.recurringEventId === undefined ? {} : { recurringEventId: event.recurringEventId }),
      iCalUID: `${event.id}@google.com`,
      sequence: event.sequence,
      attendees: event.attendees.map((email) => ({ email, responseStatus: 'needsAction', ...(email === this.#mailbox.toLowerCase() ? { self: true } : {}) })),
      extendedProperties: { private: event.privateProperties },
      reminders: { useDefault: true },
      eventType: 'default',
    };
  }
}

function invalidSendUpdates(): EmulatorResponse {
  return googleError(400, 'Invalid value for: sendUpdates', 'invalidParameter', 'INVALID_ARGUMENT');
}
