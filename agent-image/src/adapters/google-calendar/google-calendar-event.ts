import type { calendar_v3 } from 'googleapis/build/src/apis/calendar/v3.js';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { zonedTime } from '../../domain/zoned-time.ts';
import type { CalendarEvent, EventDetails, EventRecurrence } from '../../ports/calendar-provider.ts';
import { parseProviderDate } from '../calendar-event-rules.ts';
import { KEY_PROPERTY } from './google-event-id.ts';

/** An all-day event's `date` (no time, no zone). */
const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The instant an event starts or ends. A timed event's `dateTime` carries its offset. An all-day event's
 * `date` is a day in the calendar, which the owner lives by in `ownerZone`: read as UTC it would put a day
 * off in Sydney from 11:00 to 11:00, and show an approver that time for it.
 */
export function googleEventInstant(time: calendar_v3.Schema$EventDateTime | undefined, what: string, ownerZone: string): Date {
  const day = typeof time?.dateTime === 'string' ? null : CALENDAR_DATE.exec(time?.date ?? '');
  if (day === null) return parseProviderDate(time?.dateTime ?? time?.date, what, 'google calendar');
  const date = { year: Number(day[1]), month: Number(day[2]), day: Number(day[3]) };
  // A day that does not exist ("2030-02-30") would roll over into the next month.
  if (new Date(Date.UTC(date.year, date.month - 1, date.day)).toISOString().slice(0, 10) !== day[0]) {
    throw new FleetError('integrity', `google calendar answered without a valid ${what}`);
  }
  return zonedTime(date, 0, ownerZone);
}

export function toCalendarEvent(data: calendar_v3.Schema$Event, ownerZone: string): CalendarEvent {
  if (typeof data.id !== 'string' || data.id === '') throw new FleetError('integrity', 'google calendar answered an event without id');
  const key = data.extendedProperties?.private?.[KEY_PROPERTY];
  return {
    id: data.id,
    title: data.summary ?? '',
    start: googleEventInstant(data.start, 'event start', ownerZone),
    end: googleEventInstant(data.end, 'event end', ownerZone),
    attendees: (data.attendees ?? []).flatMap((a) => (typeof a.email === 'string' ? [a.email.toLowerCase()] : [])),
    idempotencyKey: typeof key === 'string' ? key : null,
  };
}

export function toEventDetails(data: calendar_v3.Schema$Event, ownerZone: string): EventDetails {
  const cancelled = data.status === 'cancelled';
  // A deleted event may come back with its id and status only.
  const base = cancelled && data.start == null ? { id: data.id ?? '', title: '', start: new Date(0), end: new Date(0), attendees: [], idempotencyKey: null } : toCalendarEvent(data, ownerZone);
  return {
    ...base,
    content: { description: data.description ?? '', location: data.location ?? '' },
    organizedByOwner: data.organizer?.self === true,
    cancelled,
    recurrence: recurrenceOf(data),
    version: typeof data.etag === 'string' && data.etag !== '' ? data.etag : null,
  };
}

/** A master carries the rules (`recurrence`); an instance names its master (`recurringEventId`). */
function recurrenceOf(data: calendar_v3.Schema$Event): EventRecurrence {
  if ((data.recurrence?.length ?? 0) > 0) return 'series';
  return typeof data.recurringEventId === 'string' && data.recurringEventId !== '' ? 'occurrence' : 'single';
}
