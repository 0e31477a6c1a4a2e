import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { SendAuthority } from '../../domain/audit-events.ts';
import { calendarEventWritten } from '../../domain/audit-events-calendar.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import { recordSend } from '../../domain/policy/policy-state.ts';
import { outboundRecipients, type ProposedAction } from '../../domain/policy/proposed-action.ts';
import { parseEventInstant } from '../../domain/scheduling/event-instant.ts';
import { eventStartWindowIssue } from '../../domain/scheduling/event-proposal.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../ports/mail-provider.ts';
import type { RuntimeContext } from './runtime-context.ts';

export type CalendarWrite = Extract<ProposedAction, { kind: 'calendar.write' }>;

/** What became of a calendar write: done (created now or found from an earlier attempt), to retry later, or failed for good. */
export type CalendarOutcome = 'done' | 'waiting' | 'failed';

/** The idempotency key of the event that goes with a send (a scheduling confirmation's). */
export function eventKeyOf(sendKey: string): string {
  return `${sendKey}:event`;
}

/** The outcome of a calendar write the kill switch refused at the call: nothing reached the calendar. */
export const KILLED_BEFORE_THE_WRITE = 'the kill switch was engaged before the write: nothing was written';

/** A meeting without an end lasts an hour. */
const DEFAULT_MINUTES = 60;

/**
 * Creates the event of an allowed `calendar.write` create exactly once: an event found with the key
 * (an earlier attempt that got through before a crash) is the event; otherwise intent audited, created
 * in the client's time zone with the attendees invited, outcome audited, and the invitations counted
 * against the send limits like any outbound message. Updates and cancels are calendar-edits.ts's
 * (`editEventOnce`); handed one here, `failed`, audited.
 */
export async function createEventOnce(input: {
  context: RuntimeContext;
  calendar: CalendarProvider | null;
  action: CalendarWrite;
  key: string;
  authority: SendAuthority;
  parameters: { [key: string]: JsonValue };
}): Promise<CalendarOutcome> {
  const { context, calendar, action, key, authority } = input;
  const attendees = [...outboundRecipients(action)];
  const parameters = { ...input.parameters, title: action.title ?? null, start: action.start ?? null, end: action.end ?? null, time_zone: context.config.timezone };
  const record = (result: 'intended' | 'success' | 'failure', extra: { eventId?: string; existing?: boolean; error?: string } = {}) =>
    context.audit.append(
      calendarEventWritten({
        operation: action.operation,
        idempotencyKey: key,
        attendees,
        parameters: extra.error === undefined ? parameters : { ...parameters, error: extra.error },
        result,
        authority,
        ...(extra.eventId === undefined ? {} : { eventId: extra.eventId }),
        ...(extra.existing === undefined ? {} : { existing: extra.existing }),
      }),
    );
  if (action.operation !== 'create') {
    await record('failure', { error: `calendar ${action.operation} is run by editEventOnce, not here` });
    return 'failed';
  }
  // Exactly the times approved: RFC 3339 with an offset, never a form read in the process's own zone.
  const start = action.start === undefined ? null : parseEventInstant(action.start);
  const end = action.end === undefined || action.end === null ? (start === null ? null : new Date(start.getTime() + DEFAULT_MINUTES * 60_000)) : parseEventInstant(action.end);
  if (action.title === undefined || start === null || end === null || end.getTime() <= start.getTime()) {
    await record('failure', { error: 'an event needs a title, a start and an end after it, as ISO 8601 times with an offset (2026-03-10T10:00:00+01:00)' });
    return 'failed';
  }
  // An approval may run days after it was asked: a meeting that has passed by then is not sent.
  const late = eventStartWindowIssue(start, context.now());
  if (late !== null) {
    await record('failure', { error: late });
    return 'failed';
  }
  // Not connected (yet): the write waits for the calendar.
  if (calendar === null) return 'waiting';
  context.kill.assertAlive('calendar write');
  try {
    const found = await calendar.findEventByIdempotencyKey(key);
    if (found !== null) {
      await record('success', { eventId: found.id, existing: true });
      return 'done';
    }
    // Checked again at the write: a kill engaged while the calendar was searched stops it.
    context.kill.assertAlive('calendar write');
    await record('intended');
    await context.state.setPolicy(recordSend(context.policyState(), context.now(), attendees));
    const event = await calendar.createEvent({
      title: action.title,
      start,
      end,
      timeZone: context.config.timezone,
      attendees,
      ...(action.description === undefined || action.description === null ? {} : { description: action.description }),
      ...(action.location === undefined || action.location === null ? {} : { location: action.location }),
      idempotencyKey: key,
    });
    await record('success', { eventId: event.id, existing: false });
    // The invitations are outbound mail the anomaly alerts must see (MassSending); new domains are counted
    // by the email this event goes with, whose gate decision named them.
    context.metrics.recipientsReached(attendees.length);
    context.logger.info('calendar event created', { op: 'calendar.create', attendees: attendees.length });
    return 'done';
  } catch (error) {
    if (error instanceof FleetError && error.code === 'killed') {
      // Refused at the call (kill-guarded-providers.ts): the intent, if one was recorded, gets its outcome.
      await record('failure', { error: KILLED_BEFORE_THE_WRITE });
      throw error;
    }
    // Throttled, unreachable or refused credentials (fixed by a reconnect): tried again; anything else is final.
    const retry = error instanceof ProviderThrottledError || error instanceof ProviderAuthError || (error instanceof FleetError && error.retryable);
    context.logger.warn('calendar write failed', { op: 'calendar.create', retry, error });
    await record('failure', { error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'unknown error' });
    return retry ? 'waiting' : 'failed';
  }
}
