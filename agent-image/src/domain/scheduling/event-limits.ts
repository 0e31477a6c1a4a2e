/**
 * What a calendar event may be, as both providers accept it and as the agent writes it: one set of limits
 * for the proposal schema (so an approver is never asked about an event that cannot be written) and the
 * adapters (which refuse anything else before a request leaves). Pure.
 */

/** Invitees an event may have. */
export const MAX_EVENT_ATTENDEES = 100;
/** Characters of a title, after it is made one line and trimmed. */
export const MAX_EVENT_TITLE = 500;
/** Characters of a description. */
export const MAX_EVENT_DESCRIPTION = 20_000;
/** Characters of a location. */
export const MAX_EVENT_LOCATION = 1000;
/** The longest event the agent writes: two weeks (a meeting, an off-site), never a block of months or years. */
export const MAX_EVENT_DURATION_MS = 14 * 86_400_000;
/** How far ahead of now an event may start: two years; a start decades away is a typo or an attack, not a meeting. */
export const MAX_EVENT_LEAD_MS = 2 * 366 * 86_400_000;
/** How far in the past an event may start: a day, for a meeting moved within the day it was set for. */
export const MAX_EVENT_LAG_MS = 86_400_000;

const EVENT_ID = /^[A-Za-z0-9_=+\-]{1,1024}$/;

/** True for a provider event id the agent may pass on: printable, no path characters, bounded. */
export function isEventId(eventId: string): boolean {
  return EVENT_ID.test(eventId);
}
