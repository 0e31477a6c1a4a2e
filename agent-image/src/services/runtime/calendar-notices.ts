import { createHash } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { recordSend } from '../../domain/policy/policy-state.ts';
import { outboundRecipients } from '../../domain/policy/proposed-action.ts';
import { BODY_PREVIEW_CHARS, approvalRecordFor, requestApproval } from './approval-request.ts';
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
 * Everyone an update or cancel of this event notifies: the attendees the calendar lists now and those the
 * update adds, de-duplicated, without the owner's own mailbox (the organizer is not sent its own change).
 * Each as the mail system delivers to it (deliveredAddress), so the gate decides on the mailbox reached.
 */
export function notifiedAttendees(listed: readonly string[], added: readonly string[], mailbox: string | undefined): string[] {
  const owner = mailbox === undefined ? undefined : deliveredAddress(mailbox);
  const seen = new Set<string>();
  for (const raw of [...listed, ...added]) {
    const address = deliveredAddress(raw);
    if (address !== '' && address !== owner) seen.add(address);
  }
  return [...seen];
}

/**
 * An attendee address as mail is delivered to it: lower case, its domain in the ASCII form IDNA maps it
 * to. A calendar may list an attendee someone else added with the domain in another script or in
 * full-width letters (`ceo@ｒｉｖａｌ.example`), which the mail system delivers to `rival.example`: the
 * gate's block list and known contacts are to see that domain. Trimmed and lower-cased as it is when it
 * names no domain IDNA takes.
 */
function deliveredAddress(raw: string): string {
  const trimmed = raw.trim();
  const plain = normaliseAddress(trimmed);
  if (plain !== undefined) return plain;
  const at = trimmed.lastIndexOf('@');
  const domain = at > 0 ? domainToASCII(trimmed.slice(at + 1)) : '';
  return (domain === '' ? undefined : normaliseAddress(`${trimmed.slice(0, at)}@${domain}`)) ?? trimmed.toLowerCase();
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
}): Promise<NoticeClearance> {
  const { context, action, key, approval, notified } = input;
  const now = context.now();
  const applied = context.settings.current();
  const shown = [...(approval?.preview.event?.attendees ?? [])];
  const gated = applied.gate.evaluateParsed(action, context.policyState(), now, {
    ...(approval === undefined ? {} : { approval: approval.record }),
    notified: { attendees: notified, shown },
  });
  const decision: PolicyDecision = { ...gated, settingsVersion: applied.version };
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  if (decision.decision === 'allow') {
    // Counted before the first await, so concurrent changes cannot overshoot the limits together.
    if (notified.length > 0) await context.state.setPolicy(recordSend(context.policyState(), now, notified));
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
  const id = heldApprovalId(approval?.record.id ?? key, action.operation, notified);
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
        bodyPreview: (action.description ?? '').slice(0, BODY_PREVIEW_CHARS),
        emailType: null,
        event: preview,
      },
      ...(decision.settingsVersion === undefined ? {} : { settingsVersion: decision.settingsVersion }),
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

/** The id of the approval a change is held under: the same for the same approval and attendee list, so a repeat asks nothing twice. */
function heldApprovalId(under: string, operation: string, notified: readonly string[]): string {
  const digest = createHash('sha256').update(`${under}\n${operation}\n${[...notified].sort().join('\n')}`).digest('hex');
  return `ap_${digest.slice(0, 20)}`;
}
