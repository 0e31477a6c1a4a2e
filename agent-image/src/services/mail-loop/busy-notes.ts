import { zonedFormatter } from '../../domain/zoned-time.ts';
import { clipBusyIntervals, type BusyInterval } from '../../ports/calendar-provider.ts';
import type { WorkingSpan } from './working-days.ts';

/**
 * Turns the client's busy intervals into the drafter's trusted notes: only our own calendar data (times,
 * never event titles or attendees), in the client's time zone, clipped to the working days asked about.
 */

const DAY: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' };
const TIME: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
/**
 * Free gaps shorter than this are shown as busy. Anyone who can put an invitation in the client's calendar
 * can make its busy intervals many (Graph lists each event: thousands of seconds-long ones, or the same
 * one a thousand times), and every one would be a line of the drafter's trusted notes. Merged this way a
 * day has at most one interval per such step; a short gap is no time to propose anyway.
 */
const MIN_FREE_GAP_MS = 15 * 60_000;

/** Busy time per working day, e.g. "Tue, 24 Nov 2026: 10:00-11:00 busy; free otherwise 08:00-18:00". */
export function busyNotes(spans: readonly WorkingSpan[], busy: readonly BusyInterval[], timeZone: string): string {
  if (spans.length === 0) return '';
  const time = zonedFormatter(timeZone, 'en-GB', TIME);
  const day = zonedFormatter(timeZone, 'en-GB', DAY);
  const lines = spans.map((span) => {
    const clipped = mergedBusy(clipBusyIntervals(busy, span.start, span.end));
    const hours = `${time.format(span.start)}-${time.format(span.end)}`;
    const date = day.format(span.start);
    if (clipped.length === 0) return `- ${date}: free ${hours}`;
    const taken = clipped.map((interval) => `${time.format(interval.start)}-${time.format(interval.end)}`);
    return `- ${date}: busy ${taken.join(', ')} (working hours ${hours})`;
  });
  return [
    `The client's calendar for the next ${spans.length} working day(s), times in ${timeZone}. Only propose times that are free:`,
    ...lines,
  ].join('\n');
}

/** Busy intervals (sorted by start) with overlapping ones, and those a short free gap apart, made one. Pure. */
function mergedBusy(sorted: readonly BusyInterval[]): BusyInterval[] {
  const merged: BusyInterval[] = [];
  for (const interval of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && interval.start.getTime() - last.end.getTime() < MIN_FREE_GAP_MS) {
      if (interval.end > last.end) merged[merged.length - 1] = { start: last.start, end: interval.end };
    } else merged.push(interval);
  }
  return merged;
}
