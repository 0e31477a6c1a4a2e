/**
 * Whether an instant falls inside the client's working hours, in the client's time zone. Formatters are
 * cached per zone; the local time is read with `formatToParts`, so daylight-saving changes are handled
 * by the platform's time-zone data.
 */
export type WorkingHours = {
  /** HH:MM, local. */
  start: string;
  /** HH:MM, local, exclusive. */
  end: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: readonly number[];
};

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Local weekday (1–7) and minutes since local midnight. */
export function localTime(at: Date, timeZone: string): { weekday: number; minutes: number } {
  let weekday = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minutes: hour * 60 + minute };
}

function minutesOf(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

export function isWithinWorkingHours(at: Date, hours: WorkingHours, timeZone: string): boolean {
  const local = localTime(at, timeZone);
  if (!hours.days.includes(local.weekday)) return false;
  return local.minutes >= minutesOf(hours.start) && local.minutes < minutesOf(hours.end);
}
