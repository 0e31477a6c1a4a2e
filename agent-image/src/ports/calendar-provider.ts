/**
 * The calendar as the agent sees it: enough for scheduling confirmations. Creating an event with
 * participants sends invitations, so the policy gate treats `createEvent` as an outbound action.
 */

export interface BusyInterval {
  start: Date;
  end: Date;
}

export interface NewEvent {
  title: string;
  start: Date;
  end: Date;
  /** IANA time zone the event is shown in. */
  timeZone: string;
  /** Invitees; each receives an invitation from the provider. */
  attendees: string[];
  description?: string;
  location?: string;
  /** Lets a retried create be recognised instead of duplicated. */
  idempotencyKey: string;
}

export interface CalendarEvent {
  id: string;
  title: string;
  start: Date;
  end: Date;
  attendees: string[];
  idempotencyKey: string | null;
}

export interface CalendarProvider {
  /** Busy intervals of the mailbox owner's primary calendar between `from` and `to`, sorted. */
  freeBusy(from: Date, to: Date): Promise<BusyInterval[]>;
  /** Creates an event and invites the attendees (outbound: only after the gate allowed it). */
  createEvent(event: NewEvent): Promise<CalendarEvent>;
  /** An event created earlier with this idempotency key, for recovery after a crash. */
  findEventByIdempotencyKey(key: string): Promise<CalendarEvent | null>;
}

/** Clips busy intervals to a window, drops the empty ones, sorts them by start (then end). */
export function clipBusyIntervals(intervals: readonly BusyInterval[], from: Date, to: Date): BusyInterval[] {
  const lo = from.getTime();
  const hi = to.getTime();
  return intervals
    .map((interval) => ({ start: Math.max(lo, interval.start.getTime()), end: Math.min(hi, interval.end.getTime()) }))
    .filter((interval) => interval.end > interval.start)
    .sort((a, b) => a.start - b.start || a.end - b.end)
    .map((interval) => ({ start: new Date(interval.start), end: new Date(interval.end) }));
}
