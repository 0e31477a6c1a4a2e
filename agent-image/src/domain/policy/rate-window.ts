import type { SendRecord } from './policy-state.ts';

export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;

export type WindowUsage = { lastHour: number; lastDay: number };

/**
 * Recipients sent to in the rolling hour and day before `now` (as providers count: per recipient).
 * History is oldest first, so the scan walks back from the newest and stops at the day boundary.
 * Records dated after `now` (the clock moved back) count against both windows: fail closed.
 */
export function recipientsInWindows(history: readonly SendRecord[], now: number): WindowUsage {
  let lastHour = 0;
  let lastDay = 0;
  const hourStart = now - HOUR_MS;
  const dayStart = now - DAY_MS;
  for (let index = history.length - 1; index >= 0; index--) {
    const record = history[index]!;
    if (record.at <= dayStart) break;
    lastDay += record.recipients;
    if (record.at > hourStart) lastHour += record.recipients;
  }
  return { lastHour, lastDay };
}
