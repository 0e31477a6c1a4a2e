import { GRAPH_EVENT_ZONES } from '../../agent-image/src/adapters/graph/graph-calendar-time-zones.ts';
import { json, randomId, type EmulatorResponse } from './http-emulator.ts';
import { wantsImmutableIds } from './graph-message-store.ts';

/** Microsoft Graph calendar wire details shared by the emulator's routes: zones and wall times, $select, errors, the event records. */

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/;
export type ShowAs = 'free' | 'tentative' | 'busy' | 'oof' | 'workingElsewhere';

export interface StoredEvent {
  /** The immutable id (`Prefer: IdType="ImmutableId"`): lasts while the event stays in the mailbox. */
  id: string;
  /** The default REST id: Graph gives the event a new one whenever it moves to another calendar. */
  restId: string;
  subject: string;
  start: number;
  end: number;
  timeZone: string;
  showAs: ShowAs;
  attendees: { address: string; type: string }[];
  transactionId: string | null;
  /**
   * An all-day event: `start` and `end` are then dates (their UTC midnights), not instants, and Graph
   * renders them as midnight in whatever zone the request prefers.
   */
  isAllDay?: boolean;
  /** Busy blocks seeded by tests are other people's meetings, not created through the API. */
  seeded: boolean;
  /** Who organised it: null for the mailbox owner, else the organizer's address (an invitation received). */
  organizer?: string | null;
  body?: string | null;
  location?: string | null;
  /** Graph's event type; absent for a single event. A change to a seriesMaster changes every occurrence. */
  type?: 'singleInstance' | 'seriesMaster' | 'occurrence' | 'exception';
  /** The calendar it is in: absent for the mailbox's primary calendar, else another (secondary, shared) calendar's id. */
  calendarId?: string;
  /** The item's change key, rendered in `@odata.etag`: new on every change, whoever makes it. Absent: never changed since created. */
  changeKey?: number;
}

/** The event with this id, named by its immutable or its default id (Graph takes either in a path). */
export function findEvent(events: readonly StoredEvent[], id: string): StoredEvent | undefined {
  return events.find((event) => event.id === id) ?? events.find((event) => event.restId === id);
}

/** A new default (REST) id of an event. */
export function newEventRestId(): string {
  return `AAMkEv${randomId()}`;
}

/** The id of `event` as a request with this Prefer header sees it: the preference applies to that request only. */
export function renderedEventId(event: Pick<StoredEvent, 'id' | 'restId'>, prefer: string): string {
  return wantsImmutableIds(prefer) ? event.id : event.restId;
}

/** The id of the mailbox's primary calendar (`GET /me/calendar`). */
export const PRIMARY_CALENDAR_ID = 'AAMkCalPrimary0001';

/** Graph's answer to a write whose If-Match names another version of the item. */
export function irresolvableConflict(): EmulatorResponse {
  return graphError(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
}

/** The `@odata.etag` of an event as Graph renders it: a weak entity tag over the item's change key. */
export function odataEtag(event: StoredEvent): string {
  return `W/"DwAAABYAAAB${String(event.changeKey ?? 0).padStart(8, '0')}"`;
}

/** A PATCH or cancel the emulator accepted, as a test sees it. */
export interface GraphEventChange {
  id: string;
  method: 'PATCH' | 'cancel';
  /** The attendees after the change; Graph notifies them of an organizer's change (and invites the added). */
  attendees: string[];
  added: string[];
  /** The cancellation message to the attendees, if any. */
  comment: string | null;
  /** False for an attendee's change to their own copy, which notifies nobody. */
  byOrganizer: boolean;
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

/**
 * True for a zone name the providers accept here: an IANA name spelt exactly as the tz database's
 * canonical name (and UTC). The providers refuse a name in another letter case ("us/eastern"); which case
 * an alias takes cannot be told from Intl, so aliases are refused too: the adapters send canonical names.
 */
export function isZone(zone: string): boolean {
  if (zone === '' || zone.length > 100) return false;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone === zone;
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

/** Graph's rendering of an all-day event's date: midnight, in any zone (`date` is its UTC midnight). */
export function allDayWallTime(date: number): string {
  return `${new Date(date).toISOString().slice(0, 10)}T00:00:00.0000000`;
}

/** Graph's rendering of an instant in a zone: wall time with seven fraction digits. */
export function wallTimeIn(instant: number, zone: string): string {
  const local = new Date(instant + offsetOf(instant, zone));
  return local.toISOString().replace(/\.(\d{3})Z$/, '.$10000');
}


export const SELECTABLE = [
  'id',
  'subject',
  'body',
  'location',
  'isCancelled',
  'isAllDay',
  'isOrganizer',
  'showAs',
  'start',
  'end',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'attendees',
  'transactionId',
  'organizer',
  'type',
];

export function selection(query: URLSearchParams): string[] | null | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const fields = raw.split(',').map((f) => f.trim());
  return fields.every((f) => SELECTABLE.includes(f)) ? fields : null;
}

/** The navigation properties of an event (Graph's event resource); `calendar` among them is marked not expandable. */
const EVENT_RELATIONSHIPS = ['attachments', 'calendar', 'extensions', 'instances', 'multiValueExtendedProperties', 'singleValueExtendedProperties'];

/**
 * `$expand` on events: a name the event type does not have is Graph's 400; one it has is not emulated and
 * refused too, rather than answered without the expansion (Graph's metadata marks `calendar` not
 * expandable, and its answer to `$expand=calendar` on one event is reported to name a calendar the mailbox
 * does not have: the adapter reads `/events/{id}/calendar` instead). Null when there is no `$expand`.
 */
export function expandRefusal(query: URLSearchParams): EmulatorResponse | null {
  const raw = query.get('$expand');
  if (raw === null) return null;
  const name = /^\s*([A-Za-z]+)/.exec(raw)?.[1] ?? raw;
  if (!EVENT_RELATIONSHIPS.includes(name)) {
    return graphError(400, 'BadRequest', `Parsing OData Select and Expand failed: Could not find a property named '${name}' on type 'microsoft.graph.event'.`);
  }
  return graphError(400, 'BadRequest', `$expand=${raw} on events is not emulated.`);
}

/** calendarView's window: ISO 8601, read as UTC when it has no offset. */
export function viewTime(value: string | null): number | null {
  if (value === null) return null;
  if (/(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const instant = Date.parse(value);
    return Number.isNaN(instant) ? null : instant;
  }
  return zonedWallTimeToUtc(value, 'UTC');
}

/** Graph's dateTimeTimeZone: a wall time and a zone, both required. Returns the instant, or the error. */
export function dateTimeTimeZone(value: unknown, which: string): number | EmulatorResponse {
  if (typeof value !== 'object' || value === null) return graphError(400, 'ErrorInvalidRequest', `The ${which} of the event is required.`);
  const { dateTime, timeZone } = value as { dateTime?: unknown; timeZone?: unknown };
  // Graph documents UTC, Windows names and a list of IANA names for an event's times; others may be refused.
  if (typeof timeZone !== 'string' || !isZone(timeZone) || (timeZone !== 'UTC' && !GRAPH_EVENT_ZONES.has(timeZone))) {
    return graphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${String(timeZone ?? '')}'.`);
  }
  const instant = typeof dateTime === 'string' ? zonedWallTimeToUtc(dateTime, timeZone) : null;
  return instant ?? graphError(400, 'ErrorInvalidRequest', `Cannot convert the literal '${String(dateTime)}' to the expected type 'Edm.DateTimeOffset'.`);
}

export function graphError(status: number, code: string, message: string): EmulatorResponse {
  return json(status, {
    error: { code, message, innerError: { date: new Date().toISOString(), 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } },
  });
}

export function parseObject(body: string): Record<string, unknown> | null {
  if (body === '') return null;
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
