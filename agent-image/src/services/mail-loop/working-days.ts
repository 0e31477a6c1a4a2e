import type { WorkingHours } from '../../domain/policy/working-hours.ts';

/**
 * The client's next working days as UTC instants, computed in the client's time zone with the platform's
 * time-zone data (so daylight-saving changes fall where the client sees them). Pure.
 */

export interface WorkingSpan {
  /** Start of working hours that day (or `now`, if the day has begun). */
  start: Date;
  /** End of working hours that day. */
  end: Date;
}

/** A fortnight holds any N ≤ 10 working days whatever the working week looks like. */
const SEARCH_DAYS = 21;

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    partFormatters.set(timeZone, formatter);
  }
  return formatter;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts['year'] ?? 1970,
    month: parts['month'] ?? 1,
    day: parts['day'] ?? 1,
    hour: parts['hour'] ?? 0,
    minute: parts['minute'] ?? 0,
    second: parts['second'] ?? 0,
  };
}

/** Milliseconds the zone is ahead of UTC at `at`. */
function offsetAt(at: number, timeZone: string): number {
  const local = localParts(new Date(at), timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** The UTC instant of a local wall-clock time; in a DST gap it lands just after the gap. */
export function zonedTime(date: { year: number; month: number; day: number }, minutes: number, timeZone: string): Date {
  const guess = Date.UTC(date.year, date.month - 1, date.day, Math.floor(minutes / 60), minutes % 60);
  const first = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(first, timeZone);
  return new Date(second);
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** ISO weekday (1 = Monday) of a calendar date. */
function isoWeekday(date: { year: number; month: number; day: number }): number {
  const weekday = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/**
 * The working hours of the next `count` working days from `now`, today included while its working
 * hours have not ended. Sorted, non-overlapping.
 */
export function nextWorkingDays(now: Date, hours: WorkingHours, timeZone: string, count: number): WorkingSpan[] {
  const spans: WorkingSpan[] = [];
  const today = localParts(now, timeZone);
  const startMinutes = minutesOf(hours.start);
  const endMinutes = minutesOf(hours.end);
  for (let offset = 0; offset < SEARCH_DAYS && spans.length < count; offset++) {
    // Noon UTC of the local date plus `offset` days: the calendar date, free of DST edges.
    const noon = new Date(Date.UTC(today.year, today.month - 1, today.day + offset, 12));
    const date = { year: noon.getUTCFullYear(), month: noon.getUTCMonth() + 1, day: noon.getUTCDate() };
    if (!hours.days.includes(isoWeekday(date))) continue;
    const start = zonedTime(date, startMinutes, timeZone);
    const end = zonedTime(date, endMinutes, timeZone);
    if (end.getTime() <= now.getTime()) continue;
    spans.push({ start: start.getTime() < now.getTime() ? now : start, end });
  }
  return spans;
}
