import { createHash } from 'node:crypto';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { comparableAddress } from '../../domain/policy/ascii-domain.ts';
import { blockedAmong } from '../../domain/policy/approval-coverage.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { recordSend } from '../../domain/policy/policy-state.ts';
import { linkIn } from '../../domain/policy/link-host.ts';
import { outboundRecipients } from '../../domain/policy/proposed-action.ts';
import { approvalRecordFor, requestApproval } from './approval-request.ts';
import type { StoredApproval } from './approval-store.ts';
import type { CalendarWrite } from './calendar-writes.ts';
import type { RuntimeContext } from './runtime-context.ts';
import { auditParameters, refuseActions } from './send-execution.ts';

/** The event as its attendees will see it after the change: what the approver is shown beside them. */
export interface NoticeEvent {
  id: string;
  title: string;
  start: Date;
  end: Date;
}

/**
 * What the gate made of a change once everyone it notifies was known: `clear` (run it), `waiting` (sending
 * paused or a limit reached: run it later), `held` (a human decides, on a new approval showing everyone
 * notified) or `refused`.
 */
export type NoticeClearance = 'clear' | 'waiting' | 'held' | 'refused';

/**
 * The most of a cancel's message a provider sends (Graph's cancel comment; Google sends none). The
 * runtime sends no more than this, and a held cancel shows its approver all of it: what is approved is
 * what is sent.
 */
export const CANCEL_MESSAGE_CHARS = 2000;

/** How much of the text an update sends a held update's approver is shown (the preview store holds up to 10,000). */
const SENT_TEXT_PREVIEW_CHARS = 2000;

/** The message a cancel sends its attendees, as sent; undefined for none. */
export function cancelMessage(action: CalendarWrite): string | undefined {
  const text = action.operation === 'cancel' ? (action.description ?? '') : '';
  return text === '' ? undefined : text.slice(0, CANCEL_MESSAGE_CHARS);
}

/**
 * Everyone an update or cancel of this event notifies: the attendees the calendar lists now and those the
 * update adds, de-duplicated, without the owner's own mailbox (the organizer is not sent its own change).
 * Each as the mail system delivers to it, its domain in ASCII form (comparableAddress: an attendee someone
 * else added may be listed as `ceo@ｒｉｖａｌ.example`, delivered to `rival.example`), so the gate decides on
 * the mailbox reached.
 */
export function notifiedAttendees(listed: readonly string[], added: readonly string[], mailbox: string | undefined): string[] {
  const owner = mailbox === undefined ? undefined : comparableAddress(mailbox);
  const seen = new Set<string>();
  for (const raw of [...listed, ...added]) {
    const address = comparableAddress(raw);
    if (address !== '' && address !== owner) seen.add(address);
  }
  return [...seen];
}

/**
 * The gate decides a change of an event again just before it runs, with everyone the provider will
 * notify as its recipients (the proposal named only those it adds) and the approval it runs under, which
 * covers only the attendees its approver was shown. A hold becomes a new approval, superseding the one
 * the change ran under, that shows every notified attendee; asked once per approval and attendee list.
 * A denial is audited (a limit reached pauses sending). On `clear` every notified attendee is counted
 * against the send limits (and so becomes a known contact), before anything is sent.
 */
export async function clearNotices(input: {
  context: RuntimeContext;
  action: CalendarWrite;
  key: string;
  /** The approval the change runs under; undefined when the gate alone allowed it. */
  approval: StoredApproval | undefined;
  notified: readonly string[];
  event: NoticeEvent;
  /** For an update that adds people: the event's text it leaves as it is, which their invitations carry (EvaluateOptions.keptText). */
  keptText?: string;
}): Promise<NoticeClearance> {
  const { context, action, key, approval, notified } = input;
  const now = context.now();
  const applied = context.settings.current();
  const shown = [...(approval?.preview.event?.attendees ?? [])];
  const gated = applied.gate.evaluateParsed(action, context.policyState(), now, {
    ...(approval === undefined
      ? {}
      : {
          approval: approval.record,
          approvalSettingsChanged: approval.settingsVersion !== applied.version,
          ...(approval.blockedRecipients === undefined ? {} : { approvalBlocked: approval.blockedRecipients }),
        }),
    notified: { attendees: notified, shown },
    // The kept text counts as shown when the approval is the one held for it: its preview is this text's.
    ...(input.keptText === undefined ? {} : { keptText: { text: input.keptText, shown: approval?.preview.bodyPreview === previewOfSentText(input) } }),
  });
  const decision: PolicyDecision = { ...gated, settingsVersion: applied.version };
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  if (decision.decision === 'allow') {
    // Counted before the first await, so concurrent changes cannot overshoot the limits together.
    if (notified.length > 0) {
      // Counted for the anomaly alerts too (MassSending, new domains): the provider mails each of them.
      context.metrics.recipientsReached(notified.length, decision.facts?.newDomains ?? 0);
      await context.state.setPolicy(recordSend(context.policyState(), now, notified));
    }
    return 'clear';
  }
  if (decision.decision === 'needs_approval') {
    await hold(input, decision);
    return 'held';
  }
  const send = { key, messageId: approval?.messageId ?? null, draftId: approval?.draftId ?? null };
  const refused = await refuseActions({ context, actions: [action], send, decision, approvalId: approval?.record.id ?? null });
  return refused === 'waiting' ? 'waiting' : 'refused';
}

/** Holds the change for a human: a new approval of the same arguments, showing the event and everyone it notifies. */
async function hold(input: Parameters<typeof clearNotices>[0], decision: PolicyDecision): Promise<void> {
  const { context, action, key, approval, notified, event } = input;
  const id = heldApprovalId(approval?.record.id ?? key, action.operation, notified, input.keptText);
  if (context.approvals.get(id) !== undefined) return;
  const created = approvalRecordFor(context, { id, actionKind: action.kind, arguments: action, policyReasons: decision.reasons });
  if (!created.ok) throw new FleetError('internal', `a calendar change could not be put up for approval: ${created.error}`);
  const { record } = created;
  const attendees = [...notified];
  const preview = {
    title: event.title,
    start: event.start.toISOString(),
    end: event.end.toISOString(),
    timeZone: context.config.timezone,
    attendees,
  };
  await requestApproval(
    context,
    {
      record,
      idempotencyKey: key,
      messageId: approval?.messageId ?? null,
      draftId: approval?.draftId ?? null,
      preview: {
        to: attendees,
        cc: [],
        subject: event.title,
        bodyPreview: previewOfSentText(input),
        emailType: null,
        event: preview,
      },
      ...(decision.settingsVersion === undefined ? {} : { settingsVersion: decision.settingsVersion }),
      ...blockedWhenHeld(context, decision, [...attendees, ...outboundRecipients(action)]),
    },
    {
      to: attendees,
      parameters: {
        ...auditParameters({ key, messageId: approval?.messageId ?? null, draftId: approval?.draftId ?? null }, decision, record.id, null),
        kind: action.kind,
        operation: action.operation,
        event_id: event.id,
        expires_at: record.expiresAt,
        arguments_hash: record.proposedHash,
        ...(approval === undefined ? {} : { supersedes: approval.record.id }),
      },
    },
  );
  context.logger.info('calendar change held: it notifies attendees the gate holds', {
    op: `calendar.${action.operation}`,
    notified: attendees.length,
    named: outboundRecipients(action).length,
    reasons: decision.reasons,
  });
}

/**
 * The recipients the block list in force matches, recorded with the approval: its approver is shown them,
 * and it covers them (and no one blocked later) when it runs. None when the decision was made under other
 * settings than those in force (nothing then says who they blocked).
 */
function blockedWhenHeld(context: RuntimeContext, decision: PolicyDecision, shown: readonly string[]): Pick<StoredApproval, 'blockedRecipients'> {
  const applied = context.settings.current();
  if (decision.settingsVersion !== applied.version) return {};
  return { blockedRecipients: blockedAmong(applied.config.blockList, shown) };
}

/**
 * The text the change sends, as its approver is shown it: a cancel's message whole (as sent, at most
 * CANCEL_MESSAGE_CHARS); for an update, the location and description it writes and the event text it
 * keeps for the people it adds: the first SENT_TEXT_PREVIEW_CHARS of it and, when longer, how much is left
 * out, the first link there and a digest of the whole, so a link past the cut is never approved unseen
 * and the preview names this text alone (clearNotices compares it to tell the kept text was shown).
 */
function previewOfSentText(input: Parameters<typeof clearNotices>[0]): string {
  const { action, keptText } = input;
  if (action.operation === 'cancel') return cancelMessage(action) ?? '';
  const text = [action.location ?? '', action.description ?? '', keptText ?? ''].filter((part) => part.trim() !== '').join('\n');
  if (text.length <= SENT_TEXT_PREVIEW_CHARS) return text;
  const rest = text.slice(SENT_TEXT_PREVIEW_CHARS);
  const host = linkIn(rest);
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return `${text.slice(0, SENT_TEXT_PREVIEW_CHARS)}\n[… ${rest.length} more characters not shown${host === undefined ? '' : `, with a link to ${host}`}; text ${digest}]`;
}

/**
 * The id of the approval a change is held under: the same for the same approval, attendee list and kept
 * event text, so a repeat asks nothing twice, and a text changed since is asked about anew.
 */
function heldApprovalId(under: string, operation: string, notified: readonly string[], keptText: string | undefined): string {
  const kept = keptText === undefined ? '' : `\n${createHash('sha256').update(keptText).digest('hex')}`;
  const digest = createHash('sha256').update(`${under}\n${operation}\n${[...notified].sort().join('\n')}${kept}`).digest('hex');
  return `ap_${digest.slice(0, 20)}`;
}
