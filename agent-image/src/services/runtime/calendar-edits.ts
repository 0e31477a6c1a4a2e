import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { SendAuthority } from '../../domain/audit-events.ts';
import { calendarEventChanged } from '../../domain/audit-events-calendar.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import { comparableAddress } from '../../domain/policy/ascii-domain.ts';
import { outboundRecipients } from '../../domain/policy/proposed-action.ts';
import { parseEventInstant } from '../../domain/scheduling/event-instant.ts';
import { MAX_EVENT_ATTENDEES } from '../../domain/scheduling/event-limits.ts';
import { eventStartWindowIssue } from '../../domain/scheduling/event-proposal.ts';
import { eventTitle } from '../../domain/scheduling/event-title.ts';
import {
  EventChangedError,
  canEditEvents,
  type CalendarProvider,
  type EventChanges,
  type EventDetails,
  type EventEditingCalendar,
  type WriteGuard,
} from '../../ports/calendar-provider.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../ports/mail-provider.ts';
import type { StoredApproval } from './approval-store.ts';
import { cancelMessage, clearNotices, notifiedAttendees, type NoticeEvent } from './calendar-notices.ts';
import { KILLED_BEFORE_THE_WRITE, type CalendarOutcome, type CalendarWrite } from './calendar-writes.ts';
import type { RuntimeContext } from './runtime-context.ts';

type Parameters = { [key: string]: JsonValue };

interface EditInput {
  context: RuntimeContext;
  calendar: CalendarProvider | null;
  action: CalendarWrite;
  key: string;
  authority: SendAuthority;
  parameters: Parameters;
  /** When the approval was asked: an earlier attempt's audited intent cannot be older. */
  since: Date;
  /**
   * The approval the change runs under, for what its approver was shown; when not given, the one named
   * by `parameters.approval_id`, if any (none: the gate alone allowed it).
   */
  approval?: StoredApproval;
}

/**
 * Runs an allowed `calendar.write` update or cancel exactly once. Only events of the owner's primary
 * calendar that the owner organised are touched: one organised by someone else is refused and audited
 * (a model fooled into proposing it changes nothing). An event that already looks as asked (an update
 * that got through before a crash) or is cancelled already is done without a second notice; a cancel
 * whose intent was audited before and whose event is gone (Graph moves cancelled meetings out of the
 * calendar) is done too. The provider notifies every attendee of a change, so before anything is sent
 * the gate decides again with all of them as recipients (calendar-notices.ts): what it holds waits for a
 * human on a new approval showing everyone notified (this run `failed`, its approval superseded), a limit
 * reached waits, and each attendee notified counts against the send limits. What cannot run (a whole
 * recurring series, invitations past the attendee limit) is refused before the gate decides, so no human
 * is asked about it. The write lands only on the version of the event read just before it: one the
 * provider finds changed since writes nothing and waits, to be decided again on the event as it is then.
 */
export async function editEventOnce(input: EditInput): Promise<CalendarOutcome> {
  const { context, calendar, action, key, authority } = input;
  const operation = action.operation === 'cancel' ? 'cancel' : 'update';
  const eventId = action.eventId ?? '';
  const participants = [...outboundRecipients(action)];
  const record = (result: 'intended' | 'success' | 'failure', extra: RecordExtra = {}) =>
    context.audit.append(
      calendarEventChanged({
        operation,
        idempotencyKey: key,
        eventId,
        addedAttendees: extra.added ?? [],
        parameters: {
          ...input.parameters,
          ...changedFields(action),
          ...(extra.error === undefined ? {} : { error: extra.error }),
          ...(extra.notWritten === true ? { [NOT_WRITTEN]: true } : {}),
        },
        result,
        authority,
        ...(extra.existing === undefined ? {} : { existing: extra.existing }),
      }),
    );
  if (eventId === '') {
    await record('failure', { error: `a calendar ${operation} needs the event id` });
    return 'failed';
  }
  if (calendar === null) return 'waiting';
  if (!canEditEvents(calendar)) {
    await record('failure', { error: `this calendar cannot ${operation} events` });
    return 'failed';
  }
  context.kill.assertAlive('calendar write');
  try {
    const current = await calendar.getEvent(eventId);
    if (current !== null && !current.cancelled && !current.organizedByOwner) {
      context.logger.warn('refused a calendar change to an event someone else organised', { op: `calendar.${operation}` });
      await record('failure', { error: 'the event was organised by someone else: only the owner’s own events are changed' });
      return 'failed';
    }
    // Refused here, before the gate decides on it: nobody is asked to approve a change that cannot run.
    if (current !== null && !current.cancelled && current.recurrence === 'series') {
      context.logger.warn('refused a calendar change to a whole recurring series', { op: `calendar.${operation}` });
      await record('failure', { error: 'the event is a whole recurring series: only one occurrence of it is changed' });
      return 'failed';
    }
    return operation === 'cancel'
      ? await cancel(input, calendar, current, record)
      : await update(input, calendar, current, participants, record);
  } catch (error) {
    if (error instanceof FleetError && error.code === 'killed') {
      // Refused at the call (kill-guarded-providers.ts): the intent, if one was recorded, did not get through.
      await record('failure', { error: KILLED_BEFORE_THE_WRITE, notWritten: true });
      throw error;
    }
    if (error instanceof EventChangedError) {
      // Nothing was written: the change waits, and the next run decides on the event as it is then.
      context.logger.warn('calendar change not written: the event changed just before the write', { op: `calendar.${operation}` });
      await record('failure', { error: 'the event changed just before the write: nothing was written, decided again before it is', notWritten: true });
      return 'waiting';
    }
    const retry = error instanceof ProviderThrottledError || error instanceof ProviderAuthError || (error instanceof FleetError && error.retryable);
    context.logger.warn('calendar write failed', { op: `calendar.${operation}`, retry, error });
    await record('failure', { error: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'unknown error' });
    return retry ? 'waiting' : 'failed';
  }
}

interface RecordExtra {
  added?: string[];
  existing?: boolean;
  error?: string;
  /** Set on the failure of a write the provider refused as stale: the intent just before it (this attempt's) did not get through. */
  notWritten?: boolean;
}

type Recorder = (result: 'intended' | 'success' | 'failure', extra?: RecordExtra) => Promise<unknown>;

/** The audit parameter that marks a failed attempt as one that wrote nothing. */
const NOT_WRITTEN = 'not_written';

async function cancel(input: EditInput, calendar: EventEditingCalendar, current: EventDetails | null, record: Recorder): Promise<CalendarOutcome> {
  const eventId = input.action.eventId ?? '';
  if (current?.cancelled === true || (current === null && (await intendedBefore(input, 'cancel')))) {
    await record('success', { existing: true });
    return 'done';
  }
  if (current === null) {
    await record('failure', { error: 'no such event in the calendar' });
    return 'failed';
  }
  const notified = notifiedAttendees(current.attendees, [], input.context.config.mailbox);
  const cleared = await clearChange(input, notified, current);
  if (cleared !== 'clear') return cleared;
  const guard = await unchangedSinceDecided(input, calendar, current, notified, record);
  if (guard === null) return 'waiting';
  // Checked again at the write: a kill engaged while the event was read and decided on stops it.
  input.context.kill.assertAlive('calendar write');
  await record('intended');
  try {
    // No more of the message than a provider sends, and than a held cancel showed its approver.
    const result = await calendar.cancelEvent(eventId, cancelMessage(input.action), guard);
    await record('success', { existing: result.alreadyCancelled });
  } catch (error) {
    // Gone between the read and the cancel: an earlier attempt's cancel got through.
    if (!(error instanceof FleetError && error.code === 'not_found')) throw error;
    await record('success', { existing: true });
  }
  input.context.logger.info('calendar event cancelled', { op: 'calendar.cancel' });
  return 'done';
}

async function update(input: EditInput, calendar: EventEditingCalendar, current: EventDetails | null, participants: string[], record: Recorder): Promise<CalendarOutcome> {
  const { context, action } = input;
  if (current === null || current.cancelled) {
    await record('failure', { error: 'no such event in the calendar (or it was cancelled)' });
    return 'failed';
  }
  const asked = changesFor(action, current, context.config.timezone, context.now());
  if (typeof asked === 'string') {
    await record('failure', { error: asked });
    return 'failed';
  }
  const changes = asked;
  const known = new Set(current.attendees.map(comparableAddress));
  const added = [...new Set(participants.map(comparableAddress))].filter((a) => !known.has(a));
  // Refused before the gate decides: nobody is asked to approve invitations the calendar will not take.
  if (added.length > 0 && known.size + added.length > MAX_EVENT_ATTENDEES) {
    await record('failure', { error: `the event would have more than ${MAX_EVENT_ATTENDEES} attendees` });
    return 'failed';
  }
  // Already as asked: an earlier attempt got through before its outcome was written; nothing is sent again.
  // Text the port does not read back counts as applied only when an earlier attempt was audited.
  const textChanged = changes.description !== undefined || changes.location !== undefined;
  if (added.length === 0 && applied(changes, current) && (!textChanged || (await intendedBefore(input, 'update')))) {
    await record('success', { existing: true });
    return 'done';
  }
  const after: NoticeEvent = { id: current.id, title: changes.title === undefined ? current.title : eventTitle(changes.title), start: changes.start ?? current.start, end: changes.end ?? current.end };
  const notified = notifiedAttendees(current.attendees, added, context.config.mailbox);
  // The people added get the event's text as it is, not only what this update writes: the gate sees it.
  const kept = added.length === 0 ? undefined : keptText(changes, current);
  const cleared = await clearChange(input, notified, after, kept);
  if (cleared !== 'clear') return cleared;
  const guard = await unchangedSinceDecided(input, calendar, current, notified, record, kept === undefined ? undefined : changes);
  if (guard === null) return 'waiting';
  context.kill.assertAlive('calendar write');
  await record('intended', { added });
  await calendar.updateEvent(current.id, { ...changes, addAttendees: added }, guard);
  await record('success', { added, existing: false });
  context.logger.info('calendar event updated', { op: 'calendar.update', added: added.length });
  return 'done';
}

/**
 * The guard the write runs under when the event did not change while the gate decided; null (audited)
 * when, read again just before the write, it notifies someone the gate (and so its approver) did not
 * decide on, is no longer the owner's to change, or became a series. The provider notifies whoever the
 * event lists when the change lands, so an attendee someone else added meanwhile (or an event planted
 * anew under the id) would be mailed unseen; the change is not written then, and runs again later, when
 * the gate decides on the event as it is. So is an update adding people when the event text it keeps for
 * them changed meanwhile (a link written in after the gate checked it). The guard carries this read's
 * version, so a change landing between this read and the write makes the provider refuse it
 * (EventChangedError) instead.
 */
async function unchangedSinceDecided(
  input: EditInput,
  calendar: EventEditingCalendar,
  decided: EventDetails,
  notified: readonly string[],
  record: Recorder,
  /** For an update that adds people: its changes, whose kept text (keptText) the gate decided on. */
  adding?: TextChanges,
): Promise<WriteGuard | undefined | null> {
  const now = await calendar.getEvent(decided.id);
  const added = input.action.operation === 'cancel' ? [] : outboundRecipients(input.action);
  const same =
    now !== null &&
    !now.cancelled &&
    now.organizedByOwner &&
    now.recurrence !== 'series' &&
    sameMembers(notifiedAttendees(now.attendees, added, input.context.config.mailbox), notified) &&
    (adding === undefined || keptText(adding, now) === keptText(adding, decided));
  if (same) return now.version === null ? undefined : { version: now.version };
  input.context.logger.warn('calendar change not written: the event changed after the gate decided', { op: `calendar.${input.action.operation}` });
  await record('failure', { error: 'the event changed after the gate decided on its attendees: decided again before it is written' });
  return null;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((item) => set.has(item));
}

/** The gate's decision on the change with everyone it notifies (counted against the limits when clear). */
async function clearChange(input: EditInput, notified: string[], event: NoticeEvent, kept?: string): Promise<'clear' | CalendarOutcome> {
  const { context } = input;
  const approvalId = input.parameters['approval_id'];
  const approval = input.approval ?? (typeof approvalId === 'string' ? context.approvals.get(approvalId) : undefined);
  const cleared = await clearNotices({ context, action: input.action, key: input.key, approval, notified, event, ...(kept === undefined ? {} : { keptText: kept }) });
  return cleared === 'clear' ? 'clear' : cleared === 'waiting' ? 'waiting' : 'failed';
}

type TextChanges = Pick<EventChanges, 'title' | 'description' | 'location'>;

/**
 * The text of the event an update leaves as it is (title, location, description where it writes none), as
 * the provider holds it: the invitations of the people it adds carry it.
 */
export function keptText(changes: TextChanges, current: Pick<EventDetails, 'title' | 'content'>): string {
  return [
    changes.title === undefined ? current.title : '',
    changes.location === undefined ? current.content.location : '',
    changes.description === undefined ? current.content.description : '',
  ].join('\n');
}

/** The changes an update asks for; a new start without an end keeps the event's length. Why not, when unusable. */
function changesFor(action: CalendarWrite, current: EventDetails, timeZone: string, now: Date): Omit<EventChanges, 'addAttendees'> | string {
  const unusable = 'an update needs a valid start (and an end after it) or another change';
  const changes: Omit<EventChanges, 'addAttendees'> = {};
  if (action.title !== undefined) changes.title = action.title;
  if (action.description !== undefined && action.description !== null) changes.description = action.description;
  if (action.location !== undefined && action.location !== null) changes.location = action.location;
  if (action.start !== undefined) {
    // Exactly the times approved: RFC 3339 with an offset, never a form read in the process's own zone.
    const start = parseEventInstant(action.start)?.getTime() ?? Number.NaN;
    const end = action.end === undefined || action.end === null ? start + (current.end.getTime() - current.start.getTime()) : (parseEventInstant(action.end)?.getTime() ?? Number.NaN);
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return unusable;
    // An approval may run days after it was asked: a time that has passed by then is not sent.
    const late = eventStartWindowIssue(new Date(start), now);
    if (late !== null) return late;
    Object.assign(changes, { start: new Date(start), end: new Date(end), timeZone });
  } else if (action.end !== undefined && action.end !== null) {
    return unusable;
  }
  return changes;
}

/** Whether the event already shows the title and time the changes ask for. */
function applied(changes: Omit<EventChanges, 'addAttendees'>, current: EventDetails): boolean {
  if (changes.title !== undefined && eventTitle(changes.title) !== current.title) return false;
  if (changes.start !== undefined && changes.start.getTime() !== current.start.getTime()) return false;
  return changes.end === undefined || changes.end.getTime() === current.end.getTime();
}

/**
 * Whether an earlier attempt audited its intent under this key and may have got through: an intent
 * whose attempt ended in a failure known to have written nothing (the provider refused a stale
 * version) did not, and does not make a later attempt count the change as applied.
 */
async function intendedBefore(input: EditInput, operation: 'update' | 'cancel'): Promise<boolean> {
  let landed = false;
  let open = false;
  for await (const entry of input.context.audit.records({ since: input.since })) {
    const p = entry.parameters;
    if (entry.action_type !== 'calendar_write' || p['idempotency_key'] !== input.key || p['operation'] !== operation) continue;
    const closesUnwritten = entry.result === 'failure' && p[NOT_WRITTEN] === true;
    if (open && !closesUnwritten) landed = true;
    open = entry.result === 'intended';
  }
  return landed || open;
}

/** What the audit record shows of the change (never the description text). */
function changedFields(action: CalendarWrite): Parameters {
  return {
    title: action.title ?? null,
    start: action.start ?? null,
    end: action.end ?? null,
    location_changed: action.location !== undefined && action.location !== null,
    description_changed: action.description !== undefined && action.description !== null,
  };
}
