/** Wall-clock time in an IANA zone, read from the platform's time-zone data (DST included). */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A formatter for `timeZone`, built once per zone, locale and options (building one is slow). */
export function zonedFormatter(timeZone: string, locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${locale}|${JSON.stringify(options)}`;
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat(locale, { ...options, timeZone });
    formatters.set(key, formatter);
  }
  return formatter;
}

const PARTS: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
};

/** The local date and time of `at` in `timeZone`. */
export function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of zonedFormatter(timeZone, 'en-US', PARTS).formatToParts(at)) {
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

const DAY_MS = 86_400_000;

/** Milliseconds the zone is ahead of UTC at `at`. */
export function offsetAt(at: number, timeZone: string): number {
  const local = localParts(new Date(at), timeZone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The zone's offsets a day either side of `wall` (a wall-clock time read as if it were UTC): the two
 * offsets any DST change near that wall time switches between (the same one twice when there is none).
 */
function offsetsAround(wall: number, timeZone: string): { before: number; after: number } {
  return { before: offsetAt(wall - DAY_MS, timeZone), after: offsetAt(wall + DAY_MS, timeZone) };
}

/**
 * The UTC instant of a local wall-clock time. A time the clocks repeat (fall back) is the first of the
 * two; a time they skip (spring forward) lands as far after the gap as it was into it, so 00:00 on a day
 * whose clocks jump from 00:00 to 01:00 is the 01:00 that starts that day, east or west of Greenwich.
 */
export function zonedTime(date: { year: number; month: number; day: number }, minutes: number, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day, Math.floor(minutes / 60), minutes % 60);
  const { before, after } = offsetsAround(wall, timeZone);
  const readsAsWall = (offset: number) => offsetAt(wall - offset, timeZone) === offset;
  const candidates = [wall - before, wall - after].filter((instant) => readsAsWall(wall - instant)).sort((a, b) => a - b);
  return new Date(candidates[0] ?? wall - before);
}

/**
 * Whether the wall-clock time of `at` in `timeZone` also reads at another instant (the hour repeated when
 * the clocks fall back): shown alone, such a time does not say which of the two it was.
 */
export function isRepeatedWallTime(at: Date, timeZone: string): boolean {
  const offset = offsetAt(at.getTime(), timeZone);
  const wall = at.getTime() + offset;
  const { before, after } = offsetsAround(wall, timeZone);
  return [before, after].some((other) => other !== offset && offsetAt(wall - other, timeZone) === other);
}

/** `at` as ISO 8601 local time with the zone's offset at that instant, e.g. 2026-01-13T10:00:00+01:00. */
export function zonedIso(at: Date, timeZone: string): string {
  const local = localParts(at, timeZone);
  const offsetMinutes = Math.round(offsetAt(at.getTime(), timeZone) / 60_000);
  const pad = (value: number, length = 2) => String(value).padStart(length, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const offset = `${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}:${pad(Math.abs(offsetMinutes) % 60)}`;
  return `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}${offset}`;
}
