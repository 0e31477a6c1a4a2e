import { json, type EmulatorResponse } from './http-emulator.ts';
import { isZone, zonedWallTimeToUtc } from './graph-calendar-wire.ts';

/** Google Calendar v3 wire details shared by the emulator's routes: errors, JSON bodies, times, attendees; the event records. */

export interface StoredEvent {
  id: string;
  summary: string;
  start: { instant: number; timeZone: string | null };
  end: { instant: number; timeZone: string | null };
  attendees: string[];
  description: string | null;
  location: string | null;
  privateProperties: Record<string, string>;
  created: string;
  status: 'confirmed' | 'cancelled';
  /** The organizer's address: the mailbox for the owner's own events. */
  organizer: string;
  sequence: number;
  /** RRULE lines of a recurring series' master; absent for a single event. A change to the master changes every instance. */
  recurrence?: string[];
  /** The master's id, on one instance of a recurring series. */
  recurringEventId?: string;
  /** The event's version, rendered as its `etag`: new on every change, whoever makes it. */
  version: number;
}

/** An events.patch or events.delete the emulator accepted, as a test sees it. */
export interface GoogleEventChange {
  id: string;
  method: 'PATCH' | 'DELETE';
  /** 'all' means every attendee was told (and the added ones invited). */
  sendUpdates: string | null;
  /** The attendees after the change. */
  attendees: string[];
  /** Attendees the change added (each invited when sendUpdates is 'all'). */
  added: string[];
  /** Whether the organizer made it (an attendee's delete only removes their own copy). */
  byOrganizer: boolean;
}

/** An event as it stands now, as a test sees it. */
export interface GoogleEventView {
  id: string;
  summary: string;
  start: Date;
  end: Date;
  timeZone: string | null;
  attendees: string[];
  description: string | null;
  location: string | null;
  status: 'confirmed' | 'cancelled';
  organizer: string;
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

const ADDRESS = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;
/** The writable fields of an attendee; anything else is an unknown name Google refuses. */
const ATTENDEE_FIELDS = new Set(['email', 'displayName', 'optional', 'responseStatus', 'comment', 'additionalGuests', 'resource', 'organizer', 'self', 'id']);

export function googleError(code: number, message: string, reason: string, status: string): EmulatorResponse {
  return json(code, { error: { code, message, errors: [{ message, domain: 'global', reason }], status } });
}

/** An event version as Google renders it: a quoted string of digits. */
export function etagOf(version: number): string {
  return `"${3_181_161_784_712_000 + version}"`;
}

/**
 * Google's conditional modification: with `If-Match` a patch or delete lands only while the event still
 * has that etag (`*`: any), else 412 and nothing is written; without it, the write is unconditional.
 */
export function preconditionFailed(etag: string, ifMatch: string | string[] | undefined): EmulatorResponse | null {
  if (ifMatch === undefined) return null;
  const wanted = (Array.isArray(ifMatch) ? ifMatch.join(',') : ifMatch).split(',').map((tag) => tag.trim());
  if (wanted.includes('*') || wanted.includes(etag)) return null;
  return json(412, {
    error: {
      code: 412,
      message: 'Precondition Failed',
      errors: [{ domain: 'global', reason: 'conditionNotMet', message: 'Precondition Failed', locationType: 'header', location: 'If-Match' }],
      status: 'FAILED_PRECONDITION',
    },
  });
}

export function parseObject(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function stringRecord(value: unknown): Record<string, string> | null {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value as Record<string, unknown>);
  return entries.every(([, v]) => typeof v === 'string') ? (Object.fromEntries(entries) as Record<string, string>) : null;
}

const OFFSET = /(Z|[+-]\d{2}:\d{2})$/i;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function rfc3339(value: unknown): number | null {
  if (typeof value !== 'string' || !RFC3339.test(value)) return null;
  const instant = Date.parse(value);
  return Number.isNaN(instant) ? null : instant;
}

/** Google's EventDateTime rules for a timed event. */
export function eventTime(value: unknown, which: 'start' | 'end'): { instant: number; timeZone: string | null } | { error: EmulatorResponse } {
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

/** An attendees list as Google reads it: lower-cased addresses, or the 400 it answers. */
export function attendeeList(value: unknown): string[] | { error: EmulatorResponse } {
  if (!Array.isArray(value)) return { error: googleError(400, 'Invalid attendees.', 'invalid', 'INVALID_ARGUMENT') };
  const emails: string[] = [];
  for (const attendee of value as unknown[]) {
    if (typeof attendee !== 'object' || attendee === null) return { error: googleError(400, 'Invalid attendee.', 'invalid', 'INVALID_ARGUMENT') };
    const unknown = Object.keys(attendee).find((key) => !ATTENDEE_FIELDS.has(key));
    if (unknown !== undefined) return { error: unknownName(unknown) };
    const email = (attendee as { email?: unknown }).email;
    if (typeof email !== 'string' || !ADDRESS.test(email)) return { error: googleError(400, 'Invalid attendee email.', 'invalid', 'INVALID_ARGUMENT') };
    emails.push(email.toLowerCase());
  }
  return emails;
}

/** Google's answer to a JSON field it does not know. */
export function unknownName(name: string): EmulatorResponse {
  return googleError(400, `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`, 'invalid', 'INVALID_ARGUMENT');
}
