import type { FreeSlot } from '../../domain/auto-reply/slot-validators.ts';
import { clipBusyIntervals, type BusyInterval } from '../../ports/calendar-provider.ts';
import type { WorkingSpan } from './working-days.ts';

/** Length of a slot a reply may propose. */
export const SLOT_MINUTES = 60;
/** Slots start on these boundaries (UTC; every zone in use is a whole or half hour off UTC but a few). */
const STEP_MS = 30 * 60_000;
/** At most this many slots a day, and in all: enough to choose from, few enough to read. */
const PER_DAY = 4;
const MAX_SLOTS = 16;

/**
 * Free slots of the client's own calendar a scheduling reply may propose: within working hours, on
 * half-hour boundaries, an hour long, overlapping no busy interval, in the future. The model may only
 * name one of their start times (slot-validators.ts). Pure.
 */
export function freeSlots(spans: readonly WorkingSpan[], busy: readonly BusyInterval[], now: Date): FreeSlot[] {
  const length = SLOT_MINUTES * 60_000;
  const slots: FreeSlot[] = [];
  for (const span of spans) {
    const taken = clipBusyIntervals(busy, span.start, span.end);
    let perDay = 0;
    const first = Math.ceil(Math.max(span.start.getTime(), now.getTime() + 1) / STEP_MS) * STEP_MS;
    for (let start = first; start + length <= span.end.getTime() && perDay < PER_DAY && slots.length < MAX_SLOTS; start += STEP_MS) {
      const end = start + length;
      if (taken.some((interval) => interval.start.getTime() < end && interval.end.getTime() > start)) continue;
      slots.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });
      perDay++;
      start += length - STEP_MS; // the next slot starts where this one ends
    }
  }
  return slots;
}
