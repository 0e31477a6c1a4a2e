import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { draftWritten, gateRefused } from '../../domain/audit-events.ts';
import { contentHash } from '../../domain/audit-record.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import type { EmailForModel } from '../../ports/llm-client.ts';
import { replySubject, type MailMessage } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import { calendarNotes, SCHEDULING_TYPES } from './calendar-notes.ts';
import { forModel, hasThread, threadForModel } from './email-for-model.ts';
import type { LoopDeps } from './loop-deps.ts';
import { callModel } from './model-call.ts';
import { proposeDryRunSend } from './propose-send.ts';
import { withProviderRetry } from './provider-retry.ts';
import { replyKey } from './reply-key.ts';
import { toReview } from './review-queue.ts';

/**
 * The reply's draft as proposed to the gate. It goes to the sender of the message, never to an address
 * the content or the model names. Pure.
 */
export function replyDraftInput(message: MailMessage, body: string, emailType: string, inReplyTo: string): Record<string, unknown> {
  return {
    kind: 'mail.draft',
    to: [replyRecipient(message)],
    subject: replySubject(message.subject),
    body,
    emailType,
    inReplyTo,
  };
}

/** The sender of a message, as the reply's one recipient (empty when it has none). Pure. */
export function replyRecipient(message: MailMessage): string {
  return (message.from?.address ?? '').trim().toLowerCase();
}

/**
 * The draft stage of a triaged message: the model drafts a reply (with the thread, and the client's
 * free/busy for scheduling mail), the gate decides, and an allowed draft is written to the mailbox with
 * intent and outcome audited. Returns the new progress: `drafted`; `done` when the gate refused (in dry
 * run, after proposing the send); `review` when the model's answer or the draft is unusable.
 */
export async function draftReply(deps: LoopDeps, messageId: string, message: MailMessage, progress: MessageProgress): Promise<MessageProgress> {
  const { context } = deps;
  const type = progress.emailType;
  if (type === undefined) throw new FleetError('integrity', `message ${messageId} is triaged without an email type`);
  const sender = replyRecipient(message);
  const thread = await threadContext(deps, message);
  const notes = SCHEDULING_TYPES.has(type) && deps.calendar !== null ? await calendarNotes({ context, calendar: deps.calendar, retry: deps.retry }, messageId) : '';
  const email = forModel(message);
  const drafted = await callModel(deps, 'draft', messageId, () =>
    deps.llm.draftReply(email, context.config.styleNotes, {
      senderName: context.config.displayName ?? context.config.client,
      thread,
      notes,
    }),
  );
  if (!drafted.ok) return drafted.progress;
  const key = replyKey(messageId);
  const parsed = parseProposedAction(replyDraftInput(message, drafted.value.body, type, messageId));
  if (!parsed.ok || parsed.action.kind !== 'mail.draft') {
    return toReview(context, messageId, 'unusable_draft', { issues: parsed.ok ? [] : parsed.issues.slice(0, 3) });
  }
  const action = parsed.action;
  const hash = contentHash(action.body);
  const decision = context.gate.evaluateParsed(action, context.policyState(), context.now());
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  const base = { message_id: messageId, idempotency_key: key, email_type: type, subject: action.subject };
  if (decision.decision !== 'allow') {
    const dryRun = decision.reasons.includes('dry_run');
    await context.audit.append(
      gateRefused({ action: 'email_draft', dryRun, target: sender, parameters: { ...base, kind: 'mail.draft', reasons: decision.reasons }, contentHash: hash }),
    );
    if (dryRun) {
      // Dry run: the whole loop runs, nothing is written to the mailbox; the send is proposed and recorded too.
      return proposeDryRunSend(deps, messageId, key, action, type);
    }
    const refused: MessageProgress = { stage: 'done', at: context.now().toISOString(), emailType: type };
    await context.state.setProgress(messageId, refused);
    return refused;
  }
  context.kill.assertAlive('draft');
  await context.audit.append(draftWritten({ to: sender, parameters: base, contentHash: hash, result: 'intended' }));
  const draft = await withProviderRetry(
    () => deps.provider.createDraft({ to: action.to, subject: action.subject, body: action.body, inReplyTo: messageId, idempotencyKey: key }),
    deps.retry,
  );
  const recorded = context.audit.append(draftWritten({ to: sender, parameters: { ...base, draft_id: draft.id }, contentHash: hash, result: 'success' }));
  const next: MessageProgress = { stage: 'drafted', at: context.now().toISOString(), draftId: draft.id, key, emailType: type };
  // Two files, two fsyncs: in parallel.
  await Promise.all([recorded, context.state.setProgress(messageId, next)]);
  context.metrics.draftCreated();
  deps.onDraftCreated(messageId, draft);
  return next;
}

async function threadContext(deps: LoopDeps, message: MailMessage): Promise<EmailForModel[]> {
  if (!hasThread(message)) return [];
  const thread = await withProviderRetry(() => deps.provider.getThread(message.threadId), deps.retry);
  return threadForModel(thread, message);
}
