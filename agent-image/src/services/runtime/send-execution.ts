import type { JsonValue } from '../../domain/approval.ts';
import { gateRefused, recipientsTarget, type SendAuthority } from '../../domain/audit-events.ts';
import type { AutoSendContext } from '../../domain/policy/auto-send-rules.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { recordSend, type SendKind } from '../../domain/policy/policy-state.ts';
import { outboundRecipients, type MessageAction, type ProposedAction } from '../../domain/policy/proposed-action.ts';
import type { CalendarProvider } from '../../ports/calendar-provider.ts';
import type { MailProvider } from '../../ports/mail-provider.ts';
import type { CrmLink } from '../mail-loop/crm-link.ts';
import type { SendOutcome } from '../outbox/outbox.ts';
import type { StoredApproval } from './approval-store.ts';
import { createEventOnce, eventKeyOf, type CalendarWrite } from './calendar-writes.ts';
import type { RuntimeContext } from './runtime-context.ts';

/** The reason of every hold a revive makes (kill-holds.ts): the send was on its way out when the kill switch was pulled. */
export const HELD_BY_KILL = 'held_by_kill_switch';

/** What became of a proposed send. `waiting`: paused or rate-limited, keep the action and try again. */
export type ProposeOutcome = 'sent' | 'queued' | 'approval' | 'denied' | 'waiting' | 'dry_run';

export type MailSend = MessageAction & { kind: 'mail.send' };

export interface SendContext {
  /** Idempotency key of the send (also the draft's header). */
  key: string;
  /** Provider id of the message answered. */
  messageId: string | null;
  draftId: string | null;
  /**
   * For a reply: what code established about the message answered and, for a template reply, the
   * model's choice. Without it the gate never auto-sends a reply.
   */
  autoSend?: AutoSendContext;
  /** Proposed before the kill switch was pulled (kept while it waited): the gate's allow becomes an approval. */
  heldByKill?: boolean;
}

/** The connected providers the actions run on; null parts while not connected (or not granted). */
export interface ActionLinks {
  mail: MailProvider | null;
  calendar: CalendarProvider | null;
  crm: CrmLink | null;
}

/** Who let an action run: the gate alone, or the approval it carries. */
export function authorityOf(approval: StoredApproval | null): SendAuthority {
  if (approval === null) return { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' };
  return {
    actor: 'agent',
    approvalStatus: approval.record.status === 'edited' ? 'edited' : 'approved',
    approvedBy: approval.record.decision?.by ?? 'human',
  };
}

/**
 * Runs an allowed send (and the event that goes with it): counted against the limits when decided,
 * intent in the outbox, the CRM note it owes recorded, sent exactly once through the outbox, then the
 * event created exactly once and the CRM note written. `waiting` while no mailbox (or calendar) is
 * connected: the caller keeps the action and runs it again, which repeats nothing already done.
 */
export async function executeSend(input: {
  context: RuntimeContext;
  links: ActionLinks;
  action: MailSend;
  send: SendContext;
  decision: PolicyDecision;
  approval: StoredApproval | null;
  event?: CalendarWrite | undefined;
}): Promise<ProposeOutcome> {
  const { context, links, action, send, decision, approval, event } = input;
  context.kill.assertAlive('send');
  const receipts = context.receipts();
  if (receipts === null) return 'waiting';
  const now = context.now();
  const recipients = outboundRecipients(action);
  const authority = authorityOf(approval);
  // Counted once, when decided, before the first await, so concurrent sends cannot overshoot the limits
  // together; running it again (a retry, a restart) repeats the outbox entry, not the count.
  // A send no human approved also counts against the reply-loop limits, in the thread it answers.
  const inbound = send.autoSend?.inbound;
  const kind: SendKind = approval === null ? { automatic: true, thread: inbound?.thread, answeredAt: inbound?.receivedAt } : { automatic: false };
  const earlier = context.outbox.get(send.key);
  if (earlier?.status === 'withdrawn') {
    // The kill switch stopped this send and the revive withdrew it: only the approval that asks again sends it.
    if (approval === null || !approval.record.policyReasons.includes(HELD_BY_KILL)) return 'approval';
    await context.outbox.discard(send.key, authority.approvedBy ?? 'human', 'replaced');
  }
  if (earlier === undefined) await context.state.setPolicy(recordSend(context.policyState(), now, recipients, kind));
  const entry = await context.outbox.enqueue({
    message: { to: action.to, cc: action.cc, bcc: action.bcc, subject: action.subject, text: action.body },
    idempotencyKey: send.key,
    actor: authority.actor,
    approvalStatus: authority.approvalStatus,
    approvedBy: authority.approvedBy,
    auditParameters: auditParameters(send, decision, approval?.record.id ?? null, action.emailType ?? null),
  });
  const crm = links.crm;
  if (crm !== null) await crmStep(context, () => crm.notes.owe({ sendKey: send.key, recipients, emailType: action.emailType ?? null, authority }));
  const outcome: SendOutcome = await context.outbox.dispatch(entry.idempotencyKey, receipts);
  // The event goes with an email that is sent or will be (deferred); while sending is paused both wait;
  // an email held for a human (quarantine, review) takes its event with it.
  if (event !== undefined && outcome.status === 'paused') return 'waiting';
  if (event !== undefined && (outcome.status === 'sent' || outcome.status === 'deferred')) {
    const created = await createEventOnce({
      context,
      calendar: links.calendar,
      action: event,
      key: eventKeyOf(send.key),
      authority,
      parameters: { send_key: send.key, message_id: send.messageId, approval_id: approval?.record.id ?? null },
    });
    if (created === 'waiting') return 'waiting';
  }
  if (outcome.status !== 'sent') return 'queued';
  if (crm !== null) await crmStep(context, () => crm.notes.settle([send.key]));
  context.metrics.emailSent(recipients.length, decision.facts?.newDomains ?? 0);
  context.metrics.action(now, context.config);
  return 'sent';
}

/** A CRM step after a send: its failure never undoes or holds up the mail (only the kill switch stops it). */
async function crmStep(context: RuntimeContext, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (context.kill.killed) throw error;
    context.logger.warn('crm note step failed; it is tried again next round', { error });
  }
}

/**
 * Records what the gate refused (each action of a bundle, with its own target) and does what the
 * refusal asks: pause sending at a rate limit. Returns `dry_run`, `waiting` (retryable) or `denied`.
 */
export async function refuseActions(input: {
  context: RuntimeContext;
  actions: readonly ProposedAction[];
  send: SendContext;
  decision: PolicyDecision;
  approvalId?: string | null;
}): Promise<ProposeOutcome> {
  const { context, actions, send, decision } = input;
  const dryRun = decision.reasons.includes('dry_run');
  for (const action of actions) {
    const subject: { [key: string]: JsonValue } =
      action.kind === 'mail.send' ? { subject: action.subject } : action.kind === 'calendar.write' ? { title: action.title ?? null, start: action.start ?? null } : {};
    const emailType = action.kind === 'mail.send' ? (action.emailType ?? null) : null;
    await context.audit.append(
      gateRefused({
        action: action.kind === 'calendar.write' ? 'calendar_write' : action.kind === 'mail.send' ? 'email_send' : actionType(action),
        dryRun,
        target: recipientsTarget(outboundRecipients(action)) || null,
        parameters: {
          ...auditParameters(action.kind === 'calendar.write' ? { ...send, key: eventKeyOf(send.key) } : send, decision, input.approvalId ?? null, emailType),
          ...(action.kind === 'mail.send' ? {} : { kind: action.kind }),
          ...subject,
          ...(decision.dryRun === undefined ? {} : { would_decide: decision.dryRun.decision, would_reasons: decision.dryRun.reasons }),
        },
      }),
    );
  }
  if (dryRun) return 'dry_run';
  if (decision.pauseSending === true) {
    context.metrics.rateLimitHit();
    await context.pause('rate_limit', decision.reasons.join(','));
  }
  return decision.retryable === true ? 'waiting' : 'denied';
}

function actionType(action: ProposedAction): 'email_move' | 'email_delete' | 'crm_write' | 'email_send' {
  if (action.kind === 'mail.move') return 'email_move';
  if (action.kind === 'mail.delete') return 'email_delete';
  if (action.kind === 'crm.write') return 'crm_write';
  return 'email_send';
}

export function auditParameters(send: SendContext, decision: PolicyDecision, approvalId: string | null, emailType: string | null): { [key: string]: JsonValue } {
  return {
    idempotency_key: send.key,
    message_id: send.messageId,
    draft_id: send.draftId,
    approval_id: approvalId,
    email_type: emailType,
    decision: decision.decision,
    reasons: decision.reasons,
    recipients: decision.facts?.recipients ?? null,
    new_contacts: decision.facts?.newContacts ?? null,
    template_reply: decision.facts?.templateReply ?? null,
    settings_version: decision.settingsVersion ?? null,
  };
}
