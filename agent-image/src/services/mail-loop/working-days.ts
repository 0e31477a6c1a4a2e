import type { WorkingHours } from '../../domain/policy/working-hours.ts';
import { localParts, zonedTime } from '../../domain/zoned-time.ts';

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
