import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { FreeSlot } from '../../domain/auto-reply/slot-validators.ts';
import { calendarRead } from '../../domain/audit-events.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { busyNotes } from './busy-notes.ts';
import { errorSummary } from './error-summary.ts';
import { freeSlots } from './free-slots.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';
import { nextWorkingDays } from './working-days.ts';

/** Email types whose reply is about a time: the drafter gets the client's free/busy. */
export const SCHEDULING_TYPES: ReadonlySet<string> = new Set(['scheduling', 'scheduling_confirmation']);
/** How many working days ahead the drafter may propose times in. */
export const SCHEDULING_DAYS = 5;

export interface CalendarNotesDeps {
  context: RuntimeContext;
  calendar: CalendarProvider;
  retry: RetryOptions;
}

/** What the drafter learns from the client's calendar: busy times as notes, and the free slots it may offer. */
export interface CalendarView {
  notes: string;
  freeSlots: FreeSlot[];
}

const NOTHING: CalendarView = { notes: '', freeSlots: [] };

/**
 * The client's free/busy over the next working days, as trusted notes for the drafter and the free slots
 * a template reply may propose. Read through the gate (`calendar.read`) and audited. Any failure but the
 * kill switch degrades to nothing (drafting without the calendar), logged and audited.
 */
export async function readCalendar(deps: CalendarNotesDeps, messageId: string): Promise<CalendarView> {
  const { context, calendar, retry } = deps;
  const { config } = context;
  const now = context.now();
  const spans = nextWorkingDays(now, config.workingHours, config.timezone, SCHEDULING_DAYS);
  const first = spans[0];
  const last = spans[spans.length - 1];
  if (first === undefined || last === undefined) return NOTHING;
  const action = parseProposedAction({ kind: 'calendar.read', query: 'free/busy' });
  if (!action.ok) return NOTHING;
  const decision = context.gate.evaluateParsed(action.action, context.policyState(), now);
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  if (decision.decision !== 'allow') {
    context.logger.debug('calendar not read for scheduling', { messageId, reasons: decision.reasons });
    return NOTHING;
  }
  const window = { from: first.start.toISOString(), to: last.end.toISOString() };
  try {
    context.kill.assertAlive('calendar read');
    const busy = await withProviderRetry(() => calendar.freeBusy(first.start, last.end), retry);
    await context.audit.append(calendarRead({ message_id: messageId, ...window, busy_intervals: busy.length }, 'success'));
    return { notes: busyNotes(spans, busy, config.timezone), freeSlots: freeSlots(spans, busy, now) };
  } catch (error) {
    if (error instanceof FleetError && error.code === 'killed') throw error;
    context.logger.warn('calendar read failed; drafting without it', { messageId, error });
    await context.audit.append(calendarRead({ message_id: messageId, ...window, error: errorSummary(error) }, 'failure'));
    return NOTHING;
  }
}

/** The busy-time notes alone (see readCalendar). */
export async function calendarNotes(deps: CalendarNotesDeps, messageId: string): Promise<string> {
  return (await readCalendar(deps, messageId)).notes;
}
