import { randomUUID } from 'node:crypto';
import { createApproval, type JsonValue } from '../../domain/approval.ts';
import { approvalRequested, gateRefused, recipientsTarget } from '../../domain/audit-events.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { recordSend } from '../../domain/policy/policy-state.ts';
import { outboundRecipients, parseProposedAction, type MessageAction } from '../../domain/policy/proposed-action.ts';
import type { SendOutcome } from '../outbox/outbox.ts';
import { publishApprovalGauges, type StoredApproval } from './approval-store.ts';
import type { RuntimeContext } from './runtime-context.ts';

/** What became of a proposed send. `waiting`: paused or rate-limited, keep the action and try again. */
export type ProposeOutcome = 'sent' | 'queued' | 'approval' | 'denied' | 'waiting' | 'dry_run';

export interface SendContext {
  /** Idempotency key of the send (also the draft's header). */
  key: string;
  /** Provider id of the message answered. */
  messageId: string | null;
  draftId: string | null;
}

const BODY_PREVIEW = 500;

/**
 * Every outbound email of the agent passes here: the policy gate decides, and the decision is carried
 * out — sent through the outbox (exactly once), held as an approval record, or refused — and audited.
 * Approved records come back through `executeApproval`, which sends only arguments that hash to what
 * the human approved.
 */
export class SendPipeline {
  private readonly context: RuntimeContext;

  constructor(context: RuntimeContext) {
    this.context = context;
  }

  async propose(action: MessageAction & { kind: 'mail.send' }, send: SendContext): Promise<ProposeOutcome> {
    const { context } = this;
    const now = context.now();
    const decision = context.gate.evaluateParsed(action, context.policyState(), now);
    context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
    if (decision.decision === 'allow') return this.execute(action, send, decision, null);
    if (decision.decision === 'needs_approval') {
      if (context.approvals.hasKey(send.key)) return 'approval';
      return this.hold(action, send, decision);
    }
    return this.refuse(action, send, decision);
  }

  /** Runs an approved (or edited) record; returns what happened. Idempotent per record. */
  async executeApproval(entry: StoredApproval): Promise<ProposeOutcome> {
    const { context } = this;
    const parsed = parseProposedAction(entry.record.approvedArguments);
    if (!parsed.ok || parsed.action.kind !== 'mail.send') {
      await context.approvals.put({ ...entry, execution: 'blocked' });
      return 'denied';
    }
    const action = parsed.action;
    const decision = context.gate.evaluateParsed(action, context.policyState(), context.now(), { approval: entry.record });
    context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
    const send = { key: entry.idempotencyKey, messageId: entry.messageId, draftId: entry.draftId };
    if (decision.decision === 'allow') {
      const outcome = await this.execute(action, send, decision, entry);
      await context.approvals.put({ ...entry, execution: outcome === 'waiting' ? 'waiting' : 'done' });
      return outcome;
    }
    const outcome = await this.refuse(action, send, decision, entry.record.id);
    await context.approvals.put({ ...entry, execution: outcome === 'waiting' ? 'waiting' : 'blocked' });
    return outcome;
  }

  private async execute(
    action: MessageAction & { kind: 'mail.send' },
    send: SendContext,
    decision: PolicyDecision,
    approval: StoredApproval | null,
  ): Promise<ProposeOutcome> {
    const { context } = this;
    context.kill.assertAlive('send');
    const receipts = context.receipts();
    // No mailbox connected: nothing can leave; the caller keeps the action waiting.
    if (receipts === null) return 'waiting';
    const now = context.now();
    const recipients = outboundRecipients(action);
    // Counted when decided, before the first await, so concurrent sends cannot overshoot the limits together.
    await context.state.setPolicy(recordSend(context.policyState(), now, recipients));
    const entry = await context.outbox.enqueue({
      message: {
        to: action.to,
        cc: action.cc,
        bcc: action.bcc,
        subject: action.subject,
        text: action.body,
      },
      idempotencyKey: send.key,
      actor: 'agent',
      approvalStatus: approval === null ? 'auto_approved' : approval.record.status === 'edited' ? 'edited' : 'approved',
      approvedBy: approval === null ? 'policy' : (approval.record.decision?.by ?? 'human'),
      auditParameters: auditParameters(send, decision, approval?.record.id ?? null, action.emailType ?? null),
    });
    const outcome: SendOutcome = await context.outbox.dispatch(entry.idempotencyKey, receipts);
    if (outcome.status !== 'sent') return 'queued';
    context.metrics.emailSent(recipients.length, decision.facts?.newDomains ?? 0);
    context.metrics.action(now, context.config);
    return 'sent';
  }

  private async hold(action: MessageAction & { kind: 'mail.send' }, send: SendContext, decision: PolicyDecision): Promise<ProposeOutcome> {
    const { context } = this;
    const now = context.now();
    const created = createApproval({
      id: `ap_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
      actionKind: action.kind,
      arguments: action,
      policyReasons: decision.reasons,
      now,
      timeoutHours: context.config.approvalTimeoutHours,
    });
    if (!created.ok) return this.refuse(action, send, { decision: 'deny', reasons: ['unparseable'] });
    const record = created.record;
    await context.audit.append(
      approvalRequested({
        to: outboundRecipients(action),
        parameters: {
          ...auditParameters(send, decision, record.id, action.emailType ?? null),
          subject: action.subject,
          expires_at: record.expiresAt,
          arguments_hash: record.proposedHash,
        },
      }),
    );
    await context.approvals.put({
      record,
      idempotencyKey: send.key,
      messageId: send.messageId,
      draftId: send.draftId,
      preview: {
        to: action.to,
        cc: action.cc,
        subject: action.subject,
        bodyPreview: action.body.slice(0, BODY_PREVIEW),
        emailType: action.emailType ?? null,
      },
      execution: 'none',
    });
    publishApprovalGauges(context.metrics, context.approvals, now);
    return 'approval';
  }

  private async refuse(
    action: MessageAction & { kind: 'mail.send' },
    send: SendContext,
    decision: PolicyDecision,
    approvalId: string | null = null,
  ): Promise<ProposeOutcome> {
    const { context } = this;
    const dryRun = decision.reasons.includes('dry_run');
    await context.audit.append(
      gateRefused({
        action: 'email_send',
        dryRun,
        target: recipientsTarget(outboundRecipients(action)),
        parameters: {
          ...auditParameters(send, decision, approvalId, action.emailType ?? null),
          subject: action.subject,
          ...(decision.dryRun === undefined ? {} : { would_decide: decision.dryRun.decision, would_reasons: decision.dryRun.reasons }),
        },
      }),
    );
    if (dryRun) return 'dry_run';
    if (decision.pauseSending === true) {
      context.metrics.rateLimitHit();
      await context.pause('rate_limit', decision.reasons.join(','));
    }
    return decision.retryable === true ? 'waiting' : 'denied';
  }
}

function auditParameters(
  send: SendContext,
  decision: PolicyDecision,
  approvalId: string | null,
  emailType: string | null,
): { [key: string]: JsonValue } {
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
  };
}
