import { parseEventInstant } from './event-instant.ts';
import {
  MAX_EVENT_ATTENDEES,
  MAX_EVENT_DESCRIPTION,
  MAX_EVENT_DURATION_MS,
  MAX_EVENT_LAG_MS,
  MAX_EVENT_LEAD_MS,
  MAX_EVENT_LOCATION,
  MAX_EVENT_TITLE,
  isEventId,
} from './event-limits.ts';
import { eventTitle } from './event-title.ts';

/**
 * Whether a proposed `calendar.write` can be written at all, decided when it is proposed: an approver is
 * asked only about a change the calendar will take, never one refused after the approval (a time that is
 * not RFC 3339 with an offset, a day that does not exist, an end before the start, an event of months).
 * Pure.
 */

/** The fields of a proposed calendar write these checks read. */
export interface ProposedEventFields {
  operation: 'create' | 'update' | 'cancel';
  eventId?: string | undefined;
  title?: string | undefined;
  description?: string | null | undefined;
  location?: string | null | undefined;
  start?: string | undefined;
  end?: string | null | undefined;
  participants: readonly string[];
}

/** One reason a proposed calendar write cannot be written, with the field it concerns. */
export interface EventIssue {
  path: string;
  message: string;
}

const TIME_FORM = 'must be an RFC 3339 time with an offset on a day that exists (2026-03-10T10:00:00+01:00)';

/** Every reason the write cannot be written whatever the calendar holds; empty when it can. */
export function proposedEventIssues(write: ProposedEventFields): EventIssue[] {
  const issues: EventIssue[] = [];
  if (write.operation !== 'create' && (write.eventId === undefined || !isEventId(write.eventId))) {
    issues.push({
      path: 'eventId',
      message: `a calendar ${write.operation} needs the id of the event (letters, digits, _ = + -)`,
    });
  }
  if (write.title !== undefined) {
    const title = eventTitle(write.title);
    if (title === '' || title.length > MAX_EVENT_TITLE)
      issues.push({ path: 'title', message: `must be 1-${MAX_EVENT_TITLE} characters on one line` });
  }
  if ((write.description?.length ?? 0) > MAX_EVENT_DESCRIPTION)
    issues.push({ path: 'description', message: `at most ${MAX_EVENT_DESCRIPTION} characters` });
  if ((write.location?.length ?? 0) > MAX_EVENT_LOCATION)
    issues.push({ path: 'location', message: `at most ${MAX_EVENT_LOCATION} characters` });
  if (write.participants.length > MAX_EVENT_ATTENDEES)
    issues.push({ path: 'participants', message: `at most ${MAX_EVENT_ATTENDEES} participants` });
  if (write.operation === 'cancel') return issues;
  if (write.operation === 'update' && !changesSomething(write)) {
    issues.push({
      path: '(root)',
      message: 'an update needs a change: a title, a description, a location, a start or participants',
    });
  }
  issues.push(...timeIssues(write.start, write.end));
  return issues;
}

function changesSomething(write: ProposedEventFields): boolean {
  return (
    [write.title, write.description ?? undefined, write.location ?? undefined, write.start].some(
      (field) => field !== undefined,
    ) || write.participants.length > 0
  );
}

function timeIssues(startText: string | undefined, endText: string | null | undefined): EventIssue[] {
  const start = startText === undefined ? undefined : parseEventInstant(startText);
  const end = endText === undefined || endText === null ? undefined : parseEventInstant(endText);
  const issues: EventIssue[] = [];
  if (start === null) issues.push({ path: 'start', message: TIME_FORM });
  if (end === null) issues.push({ path: 'end', message: TIME_FORM });
  if (end !== undefined && startText === undefined)
    issues.push({ path: 'end', message: 'an end needs a start' });
  if (start instanceof Date && end instanceof Date) {
    if (end.getTime() <= start.getTime()) issues.push({ path: 'end', message: 'must be after the start' });
    else if (end.getTime() - start.getTime() > MAX_EVENT_DURATION_MS)
      issues.push({
        path: 'end',
        message: `an event lasts at most ${MAX_EVENT_DURATION_MS / 86_400_000} days`,
      });
  }
  return issues;
}

/**
 * Why a start cannot be written now: more than a day in the past, or further ahead than any meeting is
 * set (a year typed wrong, a date decades away). Null when it can. Needs the clock, so it is the gate's
 * and the executor's, not the schema's. Pure.
 */
export function eventStartWindowIssue(start: Date, now: Date): string | null {
  if (start.getTime() < now.getTime() - MAX_EVENT_LAG_MS) return 'the event would start in the past';
  if (start.getTime() > now.getTime() + MAX_EVENT_LEAD_MS)
    return `the event would start more than ${Math.floor(MAX_EVENT_LEAD_MS / (365 * 86_400_000))} years from now`;
  return null;
}
