import { SingleFlight } from '@agent-fleet/kernel/single-flight';
import type { AutoSendContext } from '../../domain/policy/auto-send-rules.ts';
import { bundleDecision } from '../../domain/policy/bundle-decision.ts';
import type { PolicyDecision } from '../../domain/policy/decision.ts';
import { outboundRecipients } from '../../domain/policy/proposed-action.ts';
import { executeApproval } from './action-executor.ts';
import { BODY_PREVIEW_CHARS, approvalRecordFor, blockedShown, newApprovalId, requestApproval } from './approval-request.ts';
import type { ApprovalExecution, ApprovalPreview, StoredApproval } from './approval-store.ts';
import type { CalendarWrite } from './calendar-writes.ts';
import { holdWhatTheKillStopped, type KillHoldReport } from './kill-holds.ts';
import type { RuntimeContext } from './runtime-context.ts';
import { auditParameters, executeSend, HELD_BY_KILL, refuseActions, type ActionLinks, type MailSend, type ProposeOutcome, type SendContext } from './send-execution.ts';

export type { ActionLinks, ProposeOutcome, SendContext } from './send-execution.ts';

const NOT_CONNECTED: ActionLinks = { mail: null, calendar: null, crm: null };

/**
 * Every outbound email of the agent passes here, with the calendar event that may go with it (a
 * scheduling confirmation's): the policy gate decides both as one, and the decision is carried out —
 * sent through the outbox (exactly once) with the event created and the CRM note written, held as ONE
 * approval record showing both, or refused — and audited. Approved records of any kind come back through
 * `executeApproval` (action-executor.ts), which runs only arguments that hash to what the human approved.
 */
export class SendPipeline {
  private readonly context: RuntimeContext;
  private links: ActionLinks = NOT_CONNECTED;
  /** Approvals being run now, by id: a second caller (a decision beside a work round) waits for that run. */
  private readonly running = new SingleFlight<string, ApprovalExecution>();

  constructor(context: RuntimeContext) {
    this.context = context;
  }

  /** The providers of the current connection (set on every connect; none while not connected). */
  attach(links: ActionLinks | null): void {
    this.links = links ?? NOT_CONNECTED;
  }

  /** Proposes a send; `event`: the calendar event that goes with it, decided, approved and run together. */
  async propose(action: MailSend, send: SendContext, event?: CalendarWrite): Promise<ProposeOutcome> {
    const { context } = this;
    const now = context.now();
    // One read of the settings: the whole decision is made, and recorded, under one version.
    const applied = context.settings.current();
    const evaluate = (candidate: MailSend | CalendarWrite, options: { autoSend?: AutoSendContext | undefined }) => {
      const decision = applied.gate.evaluateParsed(candidate, context.policyState(), now, options);
      context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
      return decision;
    };
    const bundled = bundleDecision(evaluate(action, { autoSend: send.autoSend }), event === undefined ? [] : [evaluate(event, {})]);
    const decision: PolicyDecision =
      send.heldByKill === true && bundled.decision === 'allow'
        ? { ...bundled, decision: 'needs_approval', reasons: [HELD_BY_KILL], settingsVersion: applied.version }
        : { ...bundled, settingsVersion: applied.version };
    if (decision.decision === 'allow') return executeSend({ context, links: this.links, action, send, decision, approval: null, event });
    if (decision.decision === 'needs_approval') {
      if (context.approvals.hasKey(send.key)) return 'approval';
      return this.hold(action, send, decision, event);
    }
    return refuseActions({ context, actions: event === undefined ? [action] : [action, event], send, decision });
  }

  /**
   * Runs an approved (or edited) record of any kind; returns its execution. Idempotent per record, and one
   * run per record at a time: two at once could both find no event under its key and create it twice.
   */
  executeApproval(entry: StoredApproval): Promise<ApprovalExecution> {
    const id = entry.record.id;
    return this.running.run(id, () => executeApproval(this.context, this.links, entry, (action, send, decision, event) => this.hold(action, send, decision, event, id)));
  }

  /** Before a revive releases the kill switch: everything the kill stopped waits for a human (kill-holds.ts). */
  holdStoppedByKill(by: string): Promise<KillHoldReport> {
    return holdWhatTheKillStopped(this.context, this, by);
  }

  /**
   * Holds a send the kill switch stopped for a human (kill-holds.ts); `supersedes`: the approval granted
   * before the kill that this one asks again.
   */
  holdAfterKill(action: MailSend, send: SendContext, event: CalendarWrite | undefined, supersedes?: string): Promise<ProposeOutcome> {
    const decision: PolicyDecision = { decision: 'needs_approval', reasons: [HELD_BY_KILL], settingsVersion: this.context.settings.current().version };
    return this.hold(action, send, decision, event, supersedes);
  }

  /** Holds a send for a human; `supersedes`: the approval it replaces (granted before the settings held it). */
  private async hold(action: MailSend, send: SendContext, decision: PolicyDecision, event: CalendarWrite | undefined, supersedes?: string): Promise<ProposeOutcome> {
    const { context } = this;
    const created = approvalRecordFor(context, {
      id: newApprovalId(),
      actionKind: action.kind,
      arguments: action,
      ...(event === undefined ? {} : { companions: [event] }),
      policyReasons: decision.reasons,
    });
    if (!created.ok) return refuseActions({ context, actions: [action], send, decision: { decision: 'deny', reasons: ['unparseable'] } });
    const record = created.record;
    const eventPreview = event === undefined ? undefined : previewEvent(event, context.config.timezone);
    await requestApproval(
      context,
      {
        record,
        idempotencyKey: send.key,
        messageId: send.messageId,
        draftId: send.draftId,
        preview: {
          to: action.to,
          cc: action.cc,
          subject: action.subject,
          bodyPreview: action.body.slice(0, BODY_PREVIEW_CHARS),
          emailType: action.emailType ?? null,
          ...previewFacts(send.autoSend),
          ...(eventPreview === undefined ? {} : { event: eventPreview }),
        },
        ...(decision.settingsVersion === undefined ? {} : { settingsVersion: decision.settingsVersion }),
        ...blockedShown(context, decision, [action, ...(event === undefined ? [] : [event])]),
      },
      {
        to: outboundRecipients(action),
        parameters: {
          ...auditParameters(send, decision, record.id, action.emailType ?? null),
          subject: action.subject,
          expires_at: record.expiresAt,
          arguments_hash: record.proposedHash,
          ...(eventPreview === undefined ? {} : { event: { ...eventPreview, attendees: [...eventPreview.attendees] }, event_hash: record.companions?.[0]?.hash ?? null }),
          ...(supersedes === undefined ? {} : { supersedes }),
          ...(send.autoSend === undefined
            ? {}
            : { sender_authenticated: send.autoSend.inbound.senderAuthenticated, injection_signals: [...send.autoSend.inbound.injectionSignals] }),
        },
      },
    );
    return 'approval';
  }
}

/** The event as the approver sees it beside the email: title, time in the client's zone, who is invited. */
function previewEvent(event: CalendarWrite, timeZone: string): NonNullable<ApprovalPreview['event']> {
  return {
    title: event.title ?? '',
    start: event.start ?? '',
    end: event.end ?? null,
    timeZone,
    attendees: [...outboundRecipients(event)],
  };
}

/** What the approver is shown about the message answered: its sender, the verdict on it, its injection signals. */
function previewFacts(autoSend: AutoSendContext | undefined): Pick<ApprovalPreview, 'inbound'> {
  if (autoSend === undefined) return {};
  const { inbound } = autoSend;
  return { inbound: { sender: inbound.senderAddress, senderAuthenticated: inbound.senderAuthenticated, injectionSignals: [...inbound.injectionSignals] } };
}
