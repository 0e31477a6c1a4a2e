import { assertIdempotencyKey } from '../domain/idempotency-key.ts';
import { MAX_EVENT_ATTENDEES, MAX_EVENT_DESCRIPTION, MAX_EVENT_LOCATION, MAX_EVENT_TITLE, isEventId } from '../domain/scheduling/event-limits.ts';
import { eventTitle } from '../domain/scheduling/event-title.ts';
import { isEmailAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { canonicalTimeZone } from '@agent-fleet/kernel/time-zone';
import type { EventChanges, NewEvent } from '../ports/calendar-provider.ts';

const MAX_WINDOW_MS = 62 * 86_400_000;

/** A NewEvent after the checks both calendar adapters share: attendees trimmed, lower-cased, deduplicated; the zone by its canonical name. */
export interface CheckedEvent extends NewEvent {
  attendees: string[];
}

/** Rejects what the provider would reject (or should never see) before any request leaves. */
export function checkNewEvent(event: NewEvent): CheckedEvent {
  assertIdempotencyKey(event.idempotencyKey);
  const title = eventTitle(event.title);
  if (title === '' || title.length > MAX_EVENT_TITLE) throw new FleetError('invalid_input', `event title must be 1-${MAX_EVENT_TITLE} characters`);
  if (!validDate(event.start) || !validDate(event.end)) throw new FleetError('invalid_input', 'event start and end must be valid dates');
  if (event.end.getTime() <= event.start.getTime()) throw new FleetError('invalid_input', 'event end must be after its start');
  const timeZone = canonicalTimeZone(event.timeZone);
  if (timeZone === null) throw new FleetError('invalid_input', 'event time zone must be an IANA zone name, e.g. Europe/Berlin');
  if ((event.description?.length ?? 0) > MAX_EVENT_DESCRIPTION || (event.location?.length ?? 0) > MAX_EVENT_LOCATION) {
    throw new FleetError('invalid_input', 'event description or location too long');
  }
  const attendees = [...new Set(event.attendees.map((a) => a.trim().toLowerCase()))];
  if (attendees.length === 0) throw new FleetError('invalid_input', 'an event needs at least one attendee');
  if (attendees.length > MAX_EVENT_ATTENDEES) throw new FleetError('invalid_input', `at most ${MAX_EVENT_ATTENDEES} attendees`);
  const bad = attendees.filter((a) => !isEmailAddress(a));
  if (bad.length > 0) throw new FleetError('invalid_input', `${bad.length} attendee(s) are not email addresses`);
  return { ...event, title, timeZone, attendees };
}

/** EventChanges after the shared checks: title trimmed, added attendees normalised like a new event's, the zone by its canonical name. */
export interface CheckedChanges extends EventChanges {
  addAttendees: string[];
}

/** Rejects changes the provider would refuse, or that say nothing, before any request leaves. */
export function checkChanges(changes: EventChanges): CheckedChanges {
  const checked: CheckedChanges = { ...changes, addAttendees: [] };
  if (changes.title !== undefined) {
    checked.title = eventTitle(changes.title);
    if (checked.title === '' || checked.title.length > MAX_EVENT_TITLE) throw new FleetError('invalid_input', `event title must be 1-${MAX_EVENT_TITLE} characters`);
  }
  if ((changes.start === undefined) !== (changes.end === undefined)) throw new FleetError('invalid_input', 'a new time needs both start and end');
  if (changes.start !== undefined && changes.end !== undefined) {
    if (!validDate(changes.start) || !validDate(changes.end)) throw new FleetError('invalid_input', 'event start and end must be valid dates');
    if (changes.end.getTime() <= changes.start.getTime()) throw new FleetError('invalid_input', 'event end must be after its start');
    const timeZone = changes.timeZone === undefined ? null : canonicalTimeZone(changes.timeZone);
    if (timeZone === null) throw new FleetError('invalid_input', 'a new time needs an IANA time zone, e.g. Europe/Berlin');
    checked.timeZone = timeZone;
  }
  if ((changes.description?.length ?? 0) > MAX_EVENT_DESCRIPTION || (changes.location?.length ?? 0) > MAX_EVENT_LOCATION) {
    throw new FleetError('invalid_input', 'event description or location too long');
  }
  checked.addAttendees = [...new Set((changes.addAttendees ?? []).map((a) => a.trim().toLowerCase()))];
  if (checked.addAttendees.length > MAX_EVENT_ATTENDEES) throw new FleetError('invalid_input', `at most ${MAX_EVENT_ATTENDEES} attendees`);
  const bad = checked.addAttendees.filter((a) => !isEmailAddress(a));
  if (bad.length > 0) throw new FleetError('invalid_input', `${bad.length} attendee(s) are not email addresses`);
  const fields = [checked.title, checked.start, checked.description, checked.location].filter((field) => field !== undefined);
  if (fields.length === 0 && checked.addAttendees.length === 0) throw new FleetError('invalid_input', 'an update needs at least one change');
  return checked;
}

/**
 * The attendees after adding `added` to `current` (both lower-cased). The agent never takes an event past
 * the attendee limit, but an event the owner filled beyond it is still theirs to move or rename: only an
 * addition is measured against the limit.
 */
export function mergeAttendees(current: readonly string[], added: readonly string[]): { all: string[]; added: string[] } {
  const known = new Set(current.map((a) => a.toLowerCase()));
  const fresh = [...new Set(added.filter((a) => !known.has(a)))];
  if (fresh.length > 0 && known.size + fresh.length > MAX_EVENT_ATTENDEES) throw new FleetError('invalid_input', `at most ${MAX_EVENT_ATTENDEES} attendees`);
  return { all: [...current, ...fresh], added: fresh };
}

/** A provider event id as the agent may pass it on: printable, no path characters, bounded. */
export function checkEventId(eventId: string): string {
  if (!isEventId(eventId)) throw new FleetError('invalid_input', 'not a calendar event id');
  return eventId;
}

/** A free/busy window the providers answer for: ordered, at most about two months. */
export function checkWindow(from: Date, to: Date): void {
  if (!validDate(from) || !validDate(to)) throw new FleetError('invalid_input', 'free/busy window must be valid dates');
  if (to.getTime() <= from.getTime()) throw new FleetError('invalid_input', 'free/busy window must end after it starts');
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) throw new FleetError('invalid_input', 'free/busy window must be at most 62 days');
}

/** Parses a provider timestamp; a missing or malformed one is an integrity failure, not a silent gap. */
export function parseProviderDate(value: string | null | undefined, what: string, provider: string): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (!validDate(date)) throw new FleetError('integrity', `${provider} answered without a valid ${what}`);
  return date;
}

function validDate(date: Date): boolean {
  return date instanceof Date && !Number.isNaN(date.getTime());
}
