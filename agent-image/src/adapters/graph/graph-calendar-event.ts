import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { localParts, zonedTime } from '../../domain/zoned-time.ts';
import type { BusyInterval, CalendarEvent, EventDetails, EventRecurrence } from '../../ports/calendar-provider.ts';
import { GRAPH_EVENT_ZONES } from './graph-calendar-time-zones.ts';

/** Graph's dateTimeTimeZone. Every request asks for UTC (`Prefer: outlook.timezone="UTC"`), so answers come in UTC. */
const dateTimeTimeZone = z.object({ dateTime: z.string().min(1), timeZone: z.string().nullish() });

/** The event fields we read, validated: a provider answer is still untrusted input. */
export const graphEventSchema = z.object({
  id: z.string().min(1),
  subject: z.string().nullish(),
  start: dateTimeTimeZone,
  end: dateTimeTimeZone,
  showAs: z.string().nullish(),
  /** An all-day event's start and end are dates: Graph answers them as midnight whatever zone was asked for. */
  isAllDay: z.boolean().nullish(),
  isCancelled: z.boolean().nullish(),
  isOrganizer: z.boolean().nullish(),
  attendees: z.array(z.object({ type: z.string().nullish(), emailAddress: z.object({ address: z.string().nullish() }).nullish() })).nullish(),
  transactionId: z.string().nullish(),
  /** singleInstance, occurrence, exception or seriesMaster (a change to which changes every occurrence). */
  type: z.string().nullish(),
  /** The event's version (W/"<changeKey>"), new on every change: If-Match on a PATCH makes it conditional. */
  '@odata.etag': z.string().nullish(),
  /** Read for an update that adds attendees, whose invitations carry it (HTML unless the event was written as text). */
  body: z.object({ content: z.string().nullish() }).nullish(),
  location: z.object({ displayName: z.string().nullish() }).nullish(),
});
export type GraphEvent = z.infer<typeof graphEventSchema>;

export const EVENT_FIELDS = 'id,subject,start,end,isAllDay,attendees,transactionId';
/** What deciding on an update or cancel needs besides the event itself. */
export const EDIT_FIELDS = `${EVENT_FIELDS},isOrganizer,isCancelled,type,body,location`;
/** Only what free/busy needs: no subjects, bodies or attendees of the owner's meetings reach the agent. */
export const BUSY_FIELDS = 'showAs,start,end,isAllDay,isCancelled';
/**
 * The Prefer header of every calendar request: times in UTC, and immutable ids. An event's default id
 * changes whenever it moves to another calendar, and the agent keeps event ids for later (an approval names
 * the event it changes, the audit the event it created); an immutable id lasts while the event stays in the
 * mailbox. Graph applies a preference to the request that carries it only, so every request carries it.
 */
export const CALENDAR_PREFERENCES = 'outlook.timezone="UTC", IdType="ImmutableId"';

const BUSY_STATES = new Set(['busy', 'tentative', 'oof']);

/** A Graph wall time in UTC ("2026-11-24T09:00:00.0000000") as a Date. */
export function parseGraphUtc(value: z.infer<typeof dateTimeTimeZone>, what: string): Date {
  if (value.timeZone !== undefined && value.timeZone !== null && value.timeZone.toUpperCase() !== 'UTC') {
    throw new FleetError('integrity', `graph answered ${what} in ${value.timeZone}, not the UTC it was asked for`);
  }
  const text = /(Z|[+-]\d{2}:\d{2})$/i.test(value.dateTime) ? value.dateTime : `${value.dateTime}Z`;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new FleetError('integrity', `graph answered an invalid ${what}`);
  return date;
}

/** The wall-clock time of `instant` in `zone`, as Graph's dateTime wants it (no offset). */
export function wallTimeIn(instant: Date, zone: string): string {
  const local = localParts(instant, zone);
  const two = (value: number) => String(value).padStart(2, '0');
  const millis = instant.getTime() - Math.floor(instant.getTime() / 1000) * 1000;
  const fraction = millis === 0 ? '' : `.${String(millis).padStart(3, '0')}`;
  return `${String(local.year).padStart(4, '0')}-${two(local.month)}-${two(local.day)}T${two(local.hour)}:${two(local.minute)}:${two(local.second)}${fraction}`;
}

/** The wall clock of `at` in `zone` read as if it were UTC, ms: equal for two instants that show the same time. */
function wallClock(at: number, zone: string): number {
  const local = localParts(new Date(at), zone);
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second) + (at - Math.floor(at / 1000) * 1000);
}

const DAY_MS = 86_400_000;

/**
 * Whether the wall-clock time of `instant` in `zone` also names another instant: the hour repeated when
 * the clocks go back (01:30 in New York on the first Sunday of November, 02:30 in Berlin on the last
 * Sunday of October). Graph reads a wall time in the zone it names and must pick one of the two.
 */
export function isAmbiguousWallTime(instant: Date, zone: string): boolean {
  const at = instant.getTime();
  const wall = wallClock(at, zone);
  // Every offset the zone uses within a day either side: a wall time is shared only across a change.
  const offsets = new Set([at - DAY_MS, at, at + DAY_MS].map((t) => wallClock(t, zone) - t));
  return [...offsets].some((offset) => wall - offset !== at && wallClock(wall - offset, zone) === wall);
}

/**
 * Graph's dateTimeTimeZone for `instant`: its wall time in `zone`, where the event is shown; in UTC when that
 * wall time falls in the hour a DST change repeats, where Graph could read it as the other instant and put
 * the event an hour away from the time approved, and when `zone` is an IANA name Graph does not document
 * for events (GRAPH_EVENT_ZONES), which it may refuse: the instant is the same, only the zone the event
 * names differs.
 */
export function graphDateTime(instant: Date, zone: string): { dateTime: string; timeZone: string } {
  const shown = zone !== 'UTC' && GRAPH_EVENT_ZONES.has(zone) && !isAmbiguousWallTime(instant, zone);
  return shown ? { dateTime: wallTimeIn(instant, zone), timeZone: zone } : { dateTime: wallTimeIn(instant, 'UTC'), timeZone: 'UTC' };
}

/**
 * The instant an event starts or ends. An all-day event's times are dates (Graph answers midnight whatever
 * zone the request prefers), which the mailbox owner lives by in `ownerZone`: read as UTC they would put
 * a day off in Sydney from 11:00 to 11:00 and leave its morning looking free.
 */
export function eventInstant(event: GraphEvent, which: 'start' | 'end', ownerZone: string, what: string): Date {
  const instant = parseGraphUtc(event[which], what);
  if (event.isAllDay !== true) return instant;
  const date = { year: instant.getUTCFullYear(), month: instant.getUTCMonth() + 1, day: instant.getUTCDate() };
  return zonedTime(date, 0, ownerZone);
}

export function toBusyInterval(event: GraphEvent, ownerZone: string): BusyInterval | null {
  if (event.isCancelled === true || !BUSY_STATES.has(event.showAs ?? 'busy')) return null;
  return { start: eventInstant(event, 'start', ownerZone, 'a busy start'), end: eventInstant(event, 'end', ownerZone, 'a busy end') };
}

export function toCalendarEvent(event: GraphEvent, ownerZone: string): CalendarEvent {
  return {
    id: event.id,
    title: event.subject ?? '',
    start: eventInstant(event, 'start', ownerZone, 'an event start'),
    end: eventInstant(event, 'end', ownerZone, 'an event end'),
    attendees: (event.attendees ?? []).flatMap((a) => {
      const address = a.emailAddress?.address;
      return typeof address === 'string' && address !== '' ? [address.toLowerCase()] : [];
    }),
    idempotencyKey: event.transactionId ?? null,
  };
}

export function toEventDetails(event: GraphEvent, ownerZone: string): EventDetails {
  const version = event['@odata.etag'];
  return {
    ...toCalendarEvent(event, ownerZone),
    content: { description: event.body?.content ?? '', location: event.location?.displayName ?? '' },
    organizedByOwner: event.isOrganizer === true,
    cancelled: event.isCancelled === true,
    recurrence: recurrenceOf(event.type),
    version: typeof version === 'string' && version !== '' ? version : null,
  };
}

/** An exception is an occurrence changed on its own: still one occurrence. */
function recurrenceOf(type: string | null | undefined): EventRecurrence {
  if (type === 'seriesMaster') return 'series';
  return type === 'occurrence' || type === 'exception' ? 'occurrence' : 'single';
}

/** The attendee list of a PATCH: Graph replaces the collection, so the invited keep their type and the added are required. */
export function patchedAttendees(event: GraphEvent, added: readonly string[]): { emailAddress: { address: string }; type: string }[] {
  const kept = (event.attendees ?? []).flatMap((a) => {
    const address = a.emailAddress?.address;
    return typeof address === 'string' && address !== '' ? [{ emailAddress: { address }, type: a.type ?? 'required' }] : [];
  });
  return [...kept, ...added.map((address) => ({ emailAddress: { address }, type: 'required' }))];
}
