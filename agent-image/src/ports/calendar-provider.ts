import { FleetError } from '@agent-fleet/kernel/fleet-error';

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

/**
 * Where an event stands in a recurrence: a single event, one occurrence of a series (changed on its own),
 * or the series itself (its master: a change reaches every occurrence and everyone invited to any).
 */
export type EventRecurrence = 'single' | 'occurrence' | 'series';

/** An event's text besides its title, as the provider holds it (Google's HTML description as it is). */
export interface EventContent {
  description: string;
  location: string;
}

/** An event read back from the mailbox owner's primary calendar, with what decides whether the agent may change it. */
export interface EventDetails extends CalendarEvent {
  /**
   * Its description and location: an update that adds attendees sends them in their invitations, so the
   * gate checks them for links before it runs ('' where the event has none).
   */
  content: EventContent;
  /** True when the mailbox owner organised it: only then may the agent update or cancel it. */
  organizedByOwner: boolean;
  /** True when it was cancelled (or deleted) already. */
  cancelled: boolean;
  /** Known when the event is read, so a series is refused before anyone is asked to approve changing it. */
  recurrence: EventRecurrence;
  /**
   * The provider's version of the event (Google `etag`, Graph `@odata.etag`), new on every change; null
   * when the provider answered none. Passed back to a write, which then lands only on this version.
   */
  version: string | null;
}

/** Guards a write: it lands only while the event is still at `version` (a read's), else EventChangedError. */
export interface WriteGuard {
  version: string;
}

/**
 * The event is no longer the version a change was decided on (the provider answered 412 Precondition
 * Failed, or a read before the write already showed another version): nothing was written. The change is
 * to be decided again on the event as it is now, never retried blindly.
 */
export class EventChangedError extends FleetError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('conflict', message, { retryable: false, ...options });
    this.name = 'EventChangedError';
  }
}

/** Changes to an existing event; absent fields stay as they are. */
export interface EventChanges {
  title?: string;
  /** New start and end: both or neither. */
  start?: Date;
  end?: Date;
  /** IANA zone the new times are shown in; required with start and end. */
  timeZone?: string;
  description?: string;
  location?: string;
  /** Invitees added to those already invited; each new one receives an invitation from the provider. */
  addAttendees?: string[];
}

/** What a cancel found: cancelled now (attendees notified), or cancelled before (nothing sent now). */
export interface CancelResult {
  alreadyCancelled: boolean;
}

/**
 * A calendar that can also change and cancel events the mailbox owner organised in the primary calendar.
 * Updating an event with attendees and cancelling it notify people, so the gate treats both as outbound.
 * Events organised by someone else are refused with a FleetError `forbidden`: an invitation received is
 * never the agent's to move or call off, whatever the model was led to propose.
 */
export interface EventEditingCalendar extends CalendarProvider {
  /** The event with this id in the owner's primary calendar, or null when there is none. */
  getEvent(eventId: string): Promise<EventDetails | null>;
  /**
   * Applies the changes and notifies every attendee, inviting the added ones. FleetError `not_found` when
   * the event is missing or cancelled, `forbidden` when someone else organised it (or it is a whole
   * series), `invalid_input` for bad changes; with a `guard`, EventChangedError when the event is no
   * longer at that version (nothing written).
   */
  updateEvent(eventId: string, changes: EventChanges, guard?: WriteGuard): Promise<CalendarEvent>;
  /**
   * Cancels the event and notifies its attendees (with `comment` where the provider carries one). Never
   * notifies twice: an event the calendar still shows as cancelled is `alreadyCancelled`. FleetError
   * `not_found` when the calendar holds no such event, which is also what a repeat finds where the
   * provider removes a cancelled meeting from the calendar (Graph moves it to Deleted Items): a caller
   * that knows it asked before counts that as done. `forbidden` when someone else organised it.
   * With a `guard`, EventChangedError when the event is no longer at that version (nothing cancelled).
   */
  cancelEvent(eventId: string, comment?: string, guard?: WriteGuard): Promise<CancelResult>;
}

/** Whether this calendar can change and cancel events (both adapters can; a read-only double cannot). */
export function canEditEvents(calendar: CalendarProvider): calendar is EventEditingCalendar {
  const candidate = calendar as Partial<EventEditingCalendar>;
  return typeof candidate.getEvent === 'function' && typeof candidate.updateEvent === 'function' && typeof candidate.cancelEvent === 'function';
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
