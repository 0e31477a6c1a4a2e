/**
 * Which backups to keep: the newest backup of each of the last `daily` UTC days that have a backup, and
 * the newest of each of the last `weekly` ISO weeks (Monday to Sunday, UTC) that have one. The rules
 * count independently (as restic's --keep-daily/--keep-weekly do), so one backup may satisfy both. A
 * backup whose time cannot be read is kept: the policy never deletes what it cannot date. Nor one dated
 * after `now` (taken while the clock ran ahead), which also takes no slot: dated days or weeks ahead, it
 * would otherwise be "the newest" for as long as the clock needs to catch up, and push out every backup
 * taken since the clock was put right, the one just made included. Pure.
 */

export interface RetentionPolicy {
  /** Distinct UTC days to keep the newest backup of (default 7). */
  daily: number;
  /** Distinct ISO weeks to keep the newest backup of (default 4). */
  weekly: number;
}

export const DEFAULT_RETENTION: Readonly<RetentionPolicy> = Object.freeze({ daily: 7, weekly: 4 });

export type RetentionRule = 'daily' | 'weekly' | 'undated' | 'future';

export interface RetentionCandidate {
  backupId: string;
  /** UTC ISO-8601. */
  createdAt: string;
}

export interface RetentionDecision<T> {
  backup: T;
  keep: boolean;
  /** The rules that keep it; empty for a backup to delete. */
  rules: RetentionRule[];
}

export interface RetentionPlan<T> {
  /** Every backup, newest first, with the rules that keep it. */
  decisions: RetentionDecision<T>[];
  keep: T[];
  remove: T[];
}

const DAY_MS = 86_400_000;

/** `2026-12-04` for a UTC instant. */
export function utcDayKey(time: Date): string {
  return time.toISOString().slice(0, 10);
}

/** `2026-W49`: the ISO-8601 week (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekKey(time: Date): string {
  const day = Date.UTC(time.getUTCFullYear(), time.getUTCMonth(), time.getUTCDate());
  const weekday = (new Date(day).getUTCDay() + 6) % 7;
  const thursday = new Date(day + (3 - weekday) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`retention ${name} must be a non-negative integer`);
}

export function planRetention<T extends RetentionCandidate>(
  backups: readonly T[],
  policy: RetentionPolicy = DEFAULT_RETENTION,
  /** The present; backups dated after it are kept without taking a slot. Omitted: none is in the future. */
  now?: Date,
): RetentionPlan<T> {
  checkCount('daily', policy.daily);
  checkCount('weekly', policy.weekly);
  const dated = backups.map((backup) => ({ backup, time: Date.parse(backup.createdAt) }));
  dated.sort((a, b) => {
    const byTime = (Number.isNaN(b.time) ? Infinity : b.time) - (Number.isNaN(a.time) ? Infinity : a.time);
    if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
    return b.backup.backupId.localeCompare(a.backup.backupId);
  });
  const present = now?.getTime() ?? Infinity;
  const days = new Set<string>();
  const weeks = new Set<string>();
  const decisions = dated.map(({ backup, time }): RetentionDecision<T> => {
    if (Number.isNaN(time)) return { backup, keep: true, rules: ['undated'] };
    if (time > present) return { backup, keep: true, rules: ['future'] };
    const rules: RetentionRule[] = [];
    const day = utcDayKey(new Date(time));
    if (!days.has(day) && days.size < policy.daily) {
      days.add(day);
      rules.push('daily');
    }
    const week = isoWeekKey(new Date(time));
    if (!weeks.has(week) && weeks.size < policy.weekly) {
      weeks.add(week);
      rules.push('weekly');
    }
    return { backup, keep: rules.length > 0, rules };
  });
  return {
    decisions,
    keep: decisions.filter((d) => d.keep).map((d) => d.backup),
    remove: decisions.filter((d) => !d.keep).map((d) => d.backup),
  };
}
