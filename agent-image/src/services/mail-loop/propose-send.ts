import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AutoSendContext } from '../../domain/policy/auto-send-rules.ts';
import { learnContacts } from '../../domain/policy/policy-state.ts';
import { parseProposedAction, type MessageAction } from '../../domain/policy/proposed-action.ts';
import { confirmedSlot, schedulingEventInput } from '../../domain/scheduling/confirmed-slot.ts';
import type { CalendarWrite } from '../runtime/calendar-writes.ts';
import type { Draft } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { LoopDeps } from './loop-deps.ts';
import { withProviderRetry } from './provider-retry.ts';
import { replyKey } from './reply-key.ts';
import { toReview } from './review-queue.ts';

/** The send of a draft as proposed to the gate: exactly the draft's recipients and content. Pure. */
export function draftSendInput(draft: Draft, emailType: string | undefined, inReplyTo: string): Record<string, unknown> {
  return {
    kind: 'mail.send',
    to: draft.to,
    cc: draft.cc,
    subject: draft.subject,
    body: draft.body,
    ...(emailType === undefined ? {} : { emailType }),
    inReplyTo,
  };
}

/**
 * What the gate's auto-send rules are told about the message a send answers: the facts code established
 * when it was read and, for a template reply, the model's choice with the facts it is rendered from, tied to
 * `messageId`, the message whose progress kept them (the gate judges a reply on them only when it answers
 * that message). None (so no auto-send) when the message's facts were never established; without
 * `messageId` they are tied to no message, and no reply auto-sends on them. Pure.
 */
export function autoSendContext(progress: Pick<MessageProgress, 'inbound' | 'template'>, messageId?: string): AutoSendContext | undefined {
  const { inbound, template } = progress;
  if (inbound === undefined) return undefined;
  return {
    inbound: {
      ...(messageId === undefined ? {} : { messageId }),
      senderAddress: inbound.sender,
      senderAuthenticated: inbound.senderAuthenticated,
      injectionSignals: inbound.injectionSignals,
      ...(inbound.thread === undefined ? {} : { thread: inbound.thread }),
      ...(inbound.receivedAt === undefined ? {} : { receivedAt: inbound.receivedAt }),
    },
    ...(template === undefined ? {} : { templateReply: template }),
  };
}

/**
 * The calendar event a scheduling confirmation agrees to, proposed with its reply: the validated slot of
 * a `scheduling_confirmation` template reply, the authenticated sender and the client's mailbox as
 * attendees, the client's zone. None without `calendar.write`, a connected calendar, or such a reply.
 */
export function schedulingEvent(deps: LoopDeps, progress: Pick<MessageProgress, 'inbound' | 'template'>): CalendarWrite | undefined {
  const { context } = deps;
  const { config } = context;
  const { inbound, template } = progress;
  if (template === undefined || inbound === undefined || !inbound.senderAuthenticated) return undefined;
  if (config.permissions['calendar.write'] !== true || deps.calendar === null) return undefined;
  const slot = confirmedSlot(template, config, context.now());
  if (slot === null) return undefined;
  const parsed = parseProposedAction(
    schedulingEventInput({
      slot,
      sender: inbound.sender,
      mailbox: config.mailbox,
      clientName: config.displayName ?? config.client,
      nameSources: template.facts.nameSources,
      timeZone: config.timezone,
    }),
  );
  return parsed.ok && parsed.action.kind === 'calendar.write' ? parsed.action : undefined;
}

/**
 * The send stage of a drafted message: the draft (the one just created, else read back from the
 * mailbox) proposed to the gate through the send pipeline. Returns the new progress: `waiting_send`
 * (keeping the action) while the pipeline is paused or rate-limited, else `done`; `review` when the
 * draft no longer makes a valid send.
 */
export async function proposeSend(deps: LoopDeps, messageId: string, progress: MessageProgress, created?: Draft): Promise<MessageProgress> {
  const { context } = deps;
  const draftId = progress.draftId;
  const key = progress.key ?? replyKey(messageId);
  if (draftId === undefined) throw new FleetError('integrity', `message ${messageId} is drafted without a draft id`);
  const draft = created ?? (await withProviderRetry(() => deps.provider.getDraft(draftId), deps.retry));
  const parsed = parseProposedAction(draftSendInput(draft, progress.emailType, messageId));
  if (!parsed.ok || parsed.action.kind !== 'mail.send') {
    return toReview(context, messageId, 'unusable_draft', { issues: parsed.ok ? [] : parsed.issues.slice(0, 3) }, draft.subject);
  }
  await learnFromSentMail(deps, parsed.action.to);
  const outcome = await deps.pipeline.propose(parsed.action, { key, messageId, draftId, autoSend: autoSendContext(progress, messageId) }, schedulingEvent(deps, progress));
  const at = context.now().toISOString();
  const next: MessageProgress =
    outcome === 'waiting'
      ? { ...progress, stage: 'waiting_send', at, sendAction: parsed.action as unknown as Record<string, unknown> }
      : { stage: 'done', at, draftId, key, ...(progress.emailType === undefined ? {} : { emailType: progress.emailType }) };
  await context.state.setProgress(messageId, next);
  return next;
}

/** A send kept while it waited (paused, rate-limited) proposed again; `done` once it no longer waits. */
export async function retryWaitingSend(deps: LoopDeps, messageId: string, progress: MessageProgress): Promise<MessageProgress> {
  const { context } = deps;
  const parsed = parseProposedAction(progress.sendAction);
  if (!parsed.ok || parsed.action.kind !== 'mail.send') return toReview(context, messageId, 'unusable_draft', {}, progress.template?.facts.originalSubject);
  const outcome = await deps.pipeline.propose(parsed.action, {
    key: progress.key ?? replyKey(messageId),
    messageId,
    draftId: progress.draftId ?? null,
    autoSend: autoSendContext(progress, messageId),
    ...(progress.heldByKill === true ? { heldByKill: true } : {}),
  }, schedulingEvent(deps, progress));
  if (outcome === 'waiting') return progress;
  const { sendAction: _dropped, heldByKill: _held, ...rest } = progress;
  const next: MessageProgress = { ...rest, stage: 'done', at: context.now().toISOString() };
  await context.state.setProgress(messageId, next);
  return next;
}

/** Dry run: the reply's send proposed (and so recorded) though no draft exists; the message is then done. */
export async function proposeDryRunSend(
  deps: LoopDeps,
  messageId: string,
  key: string,
  draft: MessageAction,
  emailType: string,
  autoSend: AutoSendContext | undefined,
  kept: Pick<MessageProgress, 'inbound' | 'template'> = {},
): Promise<MessageProgress> {
  const parsed = parseProposedAction({ ...draft, kind: 'mail.send' });
  if (parsed.ok && parsed.action.kind === 'mail.send') {
    await deps.pipeline.propose(parsed.action, { key, messageId, draftId: null, autoSend }, schedulingEvent(deps, kept));
  }
  const next: MessageProgress = { stage: 'done', at: deps.context.now().toISOString(), emailType };
  await deps.context.state.setProgress(messageId, next);
  return next;
}

/** Known contacts are those the client wrote to before: asked of the mailbox's sent mail once each. */
async function learnFromSentMail(deps: LoopDeps, addresses: readonly string[]): Promise<void> {
  const { context } = deps;
  const unknown = addresses.filter((address) => !context.policyState().knownContacts.has(address));
  const learnt: string[] = [];
  for (const address of unknown) {
    if (await withProviderRetry(() => deps.provider.hasPreviousCommunicationWith(address), deps.retry)) learnt.push(address);
  }
  if (learnt.length > 0) await context.state.setPolicy(learnContacts(context.policyState(), learnt));
}
