import type { BusyInterval } from '../../ports/calendar-provider.ts';
import type { WorkingSpan } from './working-days.ts';

/**
 * Turns the client's busy intervals into the drafter's trusted notes: only our own calendar data (times,
 * never event titles or attendees), in the client's time zone, clipped to the working days asked about.
 */

const dayFormatters = new Map<string, Intl.DateTimeFormat>();
const timeFormatters = new Map<string, Intl.DateTimeFormat>();

function dayFormat(timeZone: string): Intl.DateTimeFormat {
  let formatter = dayFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    dayFormatters.set(timeZone, formatter);
  }
  return formatter;
}

function timeFormat(timeZone: string): Intl.DateTimeFormat {
  let formatter = timeFormatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    timeFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Busy time per working day, e.g. "Tue, 24 Nov 2026: 10:00-11:00 busy; free otherwise 08:00-18:00". */
export function busyNotes(spans: readonly WorkingSpan[], busy: readonly BusyInterval[], timeZone: string): string {
  if (spans.length === 0) return '';
  const time = timeFormat(timeZone);
  const lines = spans.map((span) => {
    const clipped = busy
      .map((interval) => ({
        start: Math.max(interval.start.getTime(), span.start.getTime()),
        end: Math.min(interval.end.getTime(), span.end.getTime()),
      }))
      .filter((interval) => interval.end > interval.start)
      .sort((a, b) => a.start - b.start);
    const hours = `${time.format(span.start)}-${time.format(span.end)}`;
    const day = dayFormat(timeZone).format(span.start);
    if (clipped.length === 0) return `- ${day}: free ${hours}`;
    const taken = clipped.map((interval) => `${time.format(new Date(interval.start))}-${time.format(new Date(interval.end))}`);
    return `- ${day}: busy ${taken.join(', ')} (working hours ${hours})`;
  });
  return [
    `The client's calendar for the next ${spans.length} working day(s), times in ${timeZone}. Only propose times that are free:`,
    ...lines,
  ].join('\n');
}
