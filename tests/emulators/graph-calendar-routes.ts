import { json, randomId, type EmulatorResponse } from './http-emulator.ts';

/**
 * Microsoft Graph v1.0 calendar (the part the agent uses: calendarView, POST /me/events with
 * transactionId, GET /me/events?$filter=transactionId), served by the Graph emulator with its tokens.
 * Strict where Graph is strict: start and end need a timeZone, POST needs Calendars.ReadWrite, only the
 * $filter shapes Graph supports here, a transactionId reused for a different event is refused.
 */

const READ = ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'];
const WRITE = ['Calendars.ReadWrite'];
const ADDRESS = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;
const TRANSACTION_FILTER = /^transactionId eq '((?:[^']|'')*)'$/;
const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/;

type ShowAs = 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';

interface StoredEvent {
  id: string;
  subject: string;
  start: number;
  end: number;
  timeZone: string;
  showAs: ShowAs;
  attendees: { address: string; type: string }[];
  transactionId: string | null;
  /** Busy blocks seeded by tests are other people's meetings, not created through the API. */
  seeded: boolean;
}

/** A POST /me/events the emulator accepted, as a test sees it. */
export interface GraphCreatedEvent {
  id: string;
  subject: string;
  start: Date;
  end: Date;
  timeZone: string;
  attendees: { address: string; type: string }[];
  transactionId: string | null;
}

/** True for a zone name Graph would accept here (IANA names, and UTC). */
export function isZone(zone: string): boolean {
  if (zone === '' || zone.length > 100) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function offsetOf(instant: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** A wall-clock time without offset, read in `zone`, as a UTC instant (ms); null when malformed. */
export function zonedWallTimeToUtc(wallTime: string, zone: string): number | null {
  const m = WALL_TIME.exec(wallTime);
  if (m === null || !isZone(zone)) return null;
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const guess = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0'), ms);
  if (Number.isNaN(guess)) return null;
  const first = guess - offsetOf(guess, zone);
  return guess - offsetOf(first, zone);
}

/** Graph's rendering of an instant in a zone: wall time with seven fraction digits. */
function wallTimeIn(instant: number, zone: string): string {
  const local = new Date(instant + offsetOf(instant, zone));
  return local.toISOString().replace(/\.(\d{3})Z$/, '.$10000');
}

export class GraphCalendarRoutes {
  readonly #baseUrl: () => string;
  readonly #events: StoredEvent[] = [];
  readonly #created: GraphCreatedEvent[] = [];

  constructor(baseUrl: () => string) {
    this.#baseUrl = baseUrl;
  }

  /** A busy block on the mailbox's calendar (someone else's meeting), for free/busy. */
  addBusy(start: Date, end: Date, showAs: ShowAs = 'busy'): void {
    this.#events.push({
      id: `AAMkEv${randomId()}`,
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

  /** Every event created through the API (a retried create that Graph deduplicated is not repeated). */
  events(): GraphCreatedEvent[] {
    return this.#created.map((e) => ({ ...e, attendees: e.attendees.map((a) => ({ ...a })) }));
  }

  /** Whether this router serves `path` (a full path such as /v1.0/me/events). */
  owns(path: string): boolean {
    return /^\/v1\.0\/me\/(calendar\/)?(calendarView|events)(\/|$)/.test(path);
  }

  handle(method: string, path: string, query: URLSearchParams, body: string, prefer: string, scopes: string[]): EmulatorResponse {
    const need = (allowed: string[]): EmulatorResponse | null =>
      scopes.some((s) => allowed.includes(s)) ? null : graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    const route = `${method} ${path.replace(/^\/v1\.0\/me\/calendar\//, '/v1.0/me/')}`;
    const zone = /outlook\.timezone="([^"]+)"/.exec(prefer)?.[1] ?? 'UTC';
    if (!isZone(zone)) return graphError(400, 'ErrorTimeZoneNotSupported', `The time zone '${zone}' is not supported.`);
    if (route === 'GET /v1.0/me/calendarView') return need(READ) ?? this.#calendarView(path, query, prefer, zone);
    if (route === 'POST /v1.0/me/events') return need(WRITE) ?? this.#create(body, zone);
    if (route === 'GET /v1.0/me/events') return need(READ) ?? this.#list(query, zone);
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
    // In stored order, not sorted: ordering is the caller's job unless it asks for $orderby.
    const matching = this.#events.filter((e) => e.start < to && e.end > from);
    const page = matching.slice(skip, skip + pageSize);
    const result: Record<string, unknown> = { '@odata.context': 'emulator', value: page.map((e) => this.#render(e, zone, select)) };
    if (skip + pageSize < matching.length) {
      const next = new URLSearchParams(query);
      next.set('$skip', String(skip + pageSize));
      result['@odata.nextLink'] = `${this.#baseUrl()}${path}?${next.toString()}`;
    }
    return json(200, result);
  }

  #create(body: string, zone: string): EmulatorResponse {
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
        if (earlier.subject === subject && earlier.start === start && earlier.end === end) return json(201, this.#render(earlier, zone, undefined));
        return graphError(400, 'ErrorDuplicateTransactionId', "Your request can't be completed. The TransactionId specified in the request has already been used to create a different event.");
      }
    }
    const event: StoredEvent = {
      id: `AAMkEv${randomId()}`,
      subject,
      start,
      end,
      timeZone,
      showAs: request['showAs'] === 'free' ? 'free' : 'busy',
      attendees,
      transactionId: typeof transactionId === 'string' ? transactionId : null,
      seeded: false,
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
    return json(201, this.#render(event, zone, undefined));
  }

  #list(query: URLSearchParams, zone: string): EmulatorResponse {
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
    const top = Number(query.get('$top') ?? '10');
    if (!Number.isInteger(top) || top < 1 || top > 1000) return graphError(400, 'ErrorInvalidUrlQuery', 'Invalid $top.');
    return json(200, { '@odata.context': 'emulator', value: events.slice(0, top).map((e) => this.#render(e, zone, select)) });
  }

  #render(event: StoredEvent, zone: string, select: string[] | undefined): Record<string, unknown> {
    const full: Record<string, unknown> = {
      id: event.id,
      subject: event.subject,
      isCancelled: false,
      showAs: event.showAs,
      start: { dateTime: wallTimeIn(event.start, zone), timeZone: zone },
      end: { dateTime: wallTimeIn(event.end, zone), timeZone: zone },
      originalStartTimeZone: event.timeZone,
      originalEndTimeZone: event.timeZone,
      attendees: event.attendees.map((a) => ({
        type: a.type,
        status: { response: 'none', time: '0001-01-01T00:00:00Z' },
        emailAddress: { address: a.address, name: a.address },
      })),
      transactionId: event.transactionId,
      organizer: { emailAddress: { address: 'organizer@mailbox.example' } },
    };
    if (select === undefined) return full;
    return Object.fromEntries(Object.entries(full).filter(([key]) => key === 'id' || select.includes(key)));
  }
}

const SELECTABLE = ['id', 'subject', 'isCancelled', 'showAs', 'start', 'end', 'originalStartTimeZone', 'originalEndTimeZone', 'attendees', 'transactionId', 'organizer'];

function selection(query: URLSearchParams): string[] | null | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const fields = raw.split(',').map((f) => f.trim());
  return fields.every((f) => SELECTABLE.includes(f)) ? fields : null;
}

/** calendarView's window: ISO 8601, read as UTC when it has no offset. */
function viewTime(value: string | null): number | null {
  if (value === null) return null;
  if (/(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const instant = Date.parse(value);
    return Number.isNaN(instant) ? null : instant;
  }
  return zonedWallTimeToUtc(value, 'UTC');
}

/** Graph's dateTimeTimeZone: a wall time and a zone, both required. Returns the instant, or the error. */
function dateTimeTimeZone(value: unknown, which: string): number | EmulatorResponse {
  if (typeof value !== 'object' || value === null) return graphError(400, 'ErrorInvalidRequest', `The ${which} of the event is required.`);
  const { dateTime, timeZone } = value as { dateTime?: unknown; timeZone?: unknown };
  if (typeof timeZone !== 'string' || !isZone(timeZone)) {
    return graphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${String(timeZone ?? '')}'.`);
  }
  const instant = typeof dateTime === 'string' ? zonedWallTimeToUtc(dateTime, timeZone) : null;
  return instant ?? graphError(400, 'ErrorInvalidRequest', `Cannot convert the literal '${String(dateTime)}' to the expected type 'Edm.DateTimeOffset'.`);
}

function graphError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, {
    error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } },
  });
}

function parseObject(body: string): Record<string, unknown> | null {
  if (body === '') return null;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
