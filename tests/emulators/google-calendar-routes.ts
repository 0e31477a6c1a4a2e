import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { isZone, zonedWallTimeToUtc } from './graph-calendar-routes.ts';

/**
 * Google Calendar API v3 (the part the agent uses: freeBusy, events.insert, events.get on the primary
 * calendar), served by the Gmail emulator under /calendar/v3 with the same access tokens. Strict where
 * Google is strict: client-chosen ids must be base32hex (5-1024), a reused id is 409 duplicate, dateTime
 * without an offset needs a timeZone, an empty time range is refused, scopes are checked per method.
 */

const SCOPE = 'https://www.googleapis.com/auth/';
const FREEBUSY_SCOPES = ['calendar', 'calendar.readonly', 'calendar.freebusy', 'calendar.events.freebusy'].map((s) => SCOPE + s);
const READ_EVENT_SCOPES = ['calendar', 'calendar.readonly', 'calendar.events', 'calendar.events.readonly'].map((s) => SCOPE + s);
const WRITE_EVENT_SCOPES = ['calendar', 'calendar.events'].map((s) => SCOPE + s);
const EVENT_ID = /^[0-9a-v]{5,1024}$/;
const ADDRESS = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;

interface StoredEvent {
  id: string;
  summary: string;
  start: { instant: number; timeZone: string | null };
  end: { instant: number; timeZone: string | null };
  attendees: string[];
  description: string | null;
  location: string | null;
  privateProperties: Record<string, string>;
  created: string;
}

/** An events.insert the emulator accepted, as a test sees it. */
export interface GoogleCreatedEvent {
  id: string;
  summary: string;
  start: Date;
  end: Date;
  timeZone: string | null;
  attendees: string[];
  /** The `sendUpdates` query parameter: 'all' means every attendee got an invitation. */
  sendUpdates: string | null;
  privateProperties: Record<string, string>;
}

export class GoogleCalendarRoutes {
  readonly #mailbox: string;
  readonly #events = new Map<string, StoredEvent>();
  readonly #busy: { start: number; end: number }[] = [];
  readonly #created: GoogleCreatedEvent[] = [];

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

  /** `path` is what follows /calendar/v3, e.g. /freeBusy. */
  handle(method: string, path: string, query: URLSearchParams, body: string, scopes: string[]): EmulatorResponse {
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
      const blocks = [...this.#busy, ...[...this.#events.values()].map((e) => ({ start: e.start.instant, end: e.end.instant }))];
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
    if (sendUpdates !== null && !['all', 'externalOnly', 'none'].includes(sendUpdates)) {
      return googleError(400, 'Invalid value for: sendUpdates', 'invalidParameter', 'INVALID_ARGUMENT');
    }
    const request = parseObject(body);
    if (request === null) return googleError(400, 'Invalid JSON payload received.', 'parseError', 'INVALID_ARGUMENT');
    const rawId = request['id'];
    if (rawId !== undefined && (typeof rawId !== 'string' || !EVENT_ID.test(rawId))) {
      return googleError(400, 'Invalid resource id value.', 'invalid', 'INVALID_ARGUMENT');
    }
    const start = eventTime(request['start'], 'start');
    if ('error' in start) return start.error;
    const end = eventTime(request['end'], 'end');
    if ('error' in end) return end.error;
    if (end.instant <= start.instant) return googleError(400, 'The specified time range is empty.', 'timeRangeEmpty', 'INVALID_ARGUMENT');
    const attendees = request['attendees'] ?? [];
    if (!Array.isArray(attendees)) return googleError(400, 'Invalid attendees.', 'invalid', 'INVALID_ARGUMENT');
    const emails: string[] = [];
    for (const attendee of attendees as { email?: unknown }[]) {
      const email = attendee?.email;
      if (typeof email !== 'string' || !ADDRESS.test(email)) return googleError(400, 'Invalid attendee email.', 'invalid', 'INVALID_ARGUMENT');
      emails.push(email.toLowerCase());
    }
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

  #render(event: StoredEvent): Record<string, unknown> {
    const time = (t: StoredEvent['start']) => ({
      dateTime: new Date(t.instant).toISOString().replace('.000Z', 'Z'),
      ...(t.timeZone === null ? {} : { timeZone: t.timeZone }),
    });
    return {
      kind: 'calendar#event',
      etag: `"${event.created.length}${event.id.length}"`,
      id: event.id,
      status: 'confirmed',
      htmlLink: `https://www.google.com/calendar/event?eid=${event.id}`,
      created: event.created,
      updated: event.created,
      summary: event.summary,
      ...(event.description === null ? {} : { description: event.description }),
      ...(event.location === null ? {} : { location: event.location }),
      creator: { email: this.#mailbox, self: true },
      organizer: { email: this.#mailbox, self: true },
      start: time(event.start),
      end: time(event.end),
      iCalUID: `${event.id}@google.com`,
      sequence: 0,
      attendees: event.attendees.map((email) => ({ email, responseStatus: 'needsAction' })),
      extendedProperties: { private: event.privateProperties },
      reminders: { useDefault: true },
      eventType: 'default',
    };
  }
}

function googleError(code: number, message: string, reason: string, status: string): EmulatorResponse {
  return json(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

function parseObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function stringRecord(value: unknown): Record<string, string> | null {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.every(([, v]) => typeof v === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : null;
}

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function rfc3339(value: unknown): number | null {
  if (typeof value !== 'string' || !RFC3339.test(value)) return null;
  const instant = Date.parse(value);
  return Number.isNaN(instant) ? null : instant;
}

/** Google's EventDateTime rules for a timed event. */
function eventTime(value: unknown, which: 'start' | 'end'): { instant: number; timeZone: string | null } | { error: EmulatorResponse } {
  const fail = (message: string, reason: string) => ({ error: googleError(400, message, reason, 'INVALID_ARGUMENT') });
  if (typeof value !== 'object' || value === null) return fail(`Missing ${which} time.`, 'required');
  const { dateTime, timeZone } = value as { dateTime?: unknown; timeZone?: unknown };
  if (typeof dateTime !== 'string') return fail(`Missing ${which} time.`, 'required');
  if (timeZone !== undefined && (typeof timeZone !== 'string' || !isZone(timeZone))) {
    return fail(`Invalid time zone definition for ${which} time.`, 'invalid');
  }
  const zone = typeof timeZone === 'string' ? timeZone : null;
  if (OFFSET.test(dateTime)) {
    const instant = rfc3339(dateTime);
    return instant === null ? fail(`Invalid ${which} time.`, 'invalid') : { instant, timeZone: zone };
  }
  if (zone === null) return fail(`Missing time zone definition for ${which} time.`, 'required');
  const instant = zonedWallTimeToUtc(dateTime, zone);
  return instant === null ? fail(`Invalid ${which} time.`, 'invalid') : { instant, timeZone: zone };
}
