/**
 * An event time as a `calendar.write` proposal carries it and the approval page shows it: RFC 3339 with
 * an explicit offset (`Z` or ±hh:mm) and a date that exists. `Date.parse` takes far more, and each extra
 * form would put the event at another time than the one approved: no offset ("2026-03-10T10:00:00") is
 * read in whatever zone the process runs in, a locale form ("10/3/2026") is read American, and a day that
 * does not exist ("2026-02-30") rolls over into the next month. Null for anything else. Pure.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/i;
/** The widest offsets in use (UTC−12 to UTC+14). */
const MAX_OFFSET_MINUTES = 14 * 60;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant of a proposed event time, or null when it is not RFC 3339 with an offset and a real date and time. */
export function parseEventInstant(text: string): Date | null {
  const m = RFC3339.exec(text.trim());
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (m[7] !== undefined) {
    const offsetHours = Number(m[8]);
    const offsetMinutes = Number(m[9]);
    if (offsetMinutes > 59 || offsetHours * 60 + offsetMinutes > MAX_OFFSET_MINUTES) return null;
  }
  const instant = Date.parse(text.trim());
  return Number.isNaN(instant) ? null : new Date(instant);
}
