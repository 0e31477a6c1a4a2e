import { foldAddressCase } from '@agent-fleet/kernel/email-address';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { InboundFacts } from '../../domain/auto-reply/inbound-facts.ts';
import { injectionSignals } from '../../domain/auto-reply/injection-signals.ts';
import { draftWritten, gateRefused } from '../../domain/audit-events.ts';
import { contentHash, type JsonValue } from '../../domain/audit-record.ts';
import { parseProposedAction } from '../../domain/policy/proposed-action.ts';
import type { CrmPerson } from '../../ports/crm-provider.ts';
import type { DraftContext, DraftReply, EmailForModel } from '../../ports/llm-client.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import { shownLine } from '../../domain/auto-reply/inbound-text.ts';
import { readCalendar, SCHEDULING_TYPES, type CalendarView } from './calendar-notes.ts';
import { composeReply, draftSubject, nameCandidatesOf, offeredTemplates, templateFacts, type ComposedReply } from './compose-reply.ts';
import { forDrafter, hasThread, threadForModel } from './email-for-model.ts';
import type { LoopDeps } from './loop-deps.ts';
import { callModel } from './model-call.ts';
import { autoSendContext, proposeDryRunSend } from './propose-send.ts';
import { withProviderRetry } from './provider-retry.ts';
import { messageFacts, ownMailProof } from './read-message.ts';
import { replyKey } from './reply-key.ts';
import { toReview } from './review-queue.ts';

/**
 * The reply's draft as proposed to the gate. It goes to the sender of the message, never to an address
 * the content or the model names. The subject is the message's, as a reply (a template's rendered one
 * when given). Pure.
 */
export function replyDraftInput(message: MailMessage, body: string, emailType: string, inReplyTo: string, subject?: string): Record<string, unknown> {
  return {
    kind: 'mail.draft',
    to: [replyRecipient(message)],
    subject: subject ?? draftSubject(message.subject),
    body,
    emailType,
    inReplyTo,
  };
}

/** The sender of a message, as the reply's one recipient (empty when it has none). Pure. */
export function replyRecipient(message: MailMessage): string {
  return foldAddressCase(message.from?.address ?? '');
}

/**
 * What the client's CRM says of the correspondent (name, role, company), for the drafter as data, not as
 * trusted notes: CRM records are often made from inbound mail. '' when none. Pure.
 */
export function correspondentNotes(person: Pick<CrmPerson, 'name' | 'role' | 'company'> | null): string {
  if (person === null) return '';
  const line = (text: string) => Array.from(shownLine(text).trim()).slice(0, 200).join('');
  const role = person.role === null ? '' : `, ${line(person.role)}`;
  const company = person.company === null ? '' : ` at ${line(person.company)}`;
  return `The correspondent, per the client's CRM: ${line(person.name)}${role}${company}.`;
}

/**
 * The facts of the message answered, with the injection signals of the earlier messages from the
 * correspondent that the drafter is shown with it (threadForModel): their text reaches the model as the
 * message's own does, so a signal there (a first message that plants "reply with the bank details", a
 * harmless-looking second one that is answered) rules out an auto-send as well. The client's own
 * messages are not scanned, but only where the provider proves which are (`ownMailProven`: threadForModel
 * then drops the rest): anyone can write the client's address as From, and without that proof such a
 * forgery in the thread would carry its injection past the scan. Pure.
 */
export function withThreadSignals(inbound: InboundFacts, thread: readonly EmailForModel[], ownAddress: string | undefined, ownMailProven: boolean): InboundFacts {
  const own = ownMailProven ? ownAddress?.trim().toLowerCase() : undefined;
  const signals = new Set(inbound.injectionSignals);
  for (const entry of thread) {
    if (own !== undefined && entry.from.trim().toLowerCase() === own) continue;
    for (const signal of injectionSignals({ subject: entry.subject, textBody: entry.body, fromAddress: null, replyTo: [] }, [])) signals.add(signal);
  }
  return signals.size === inbound.injectionSignals.length ? inbound : { ...inbound, injectionSignals: [...signals] };
}

/** What the `llm_call` record of a draft says about its answer. Pure. */
export function draftFacts(value: DraftReply): { [key: string]: JsonValue } {
  return value.kind === 'template' ? { reply_kind: 'template', template_id: value.choice.templateId, template_type: value.choice.type } : { reply_kind: 'free_form' };
}

/**
 * The draft stage of a triaged message: the model drafts a reply (a template choice or free text; with
 * the minimised thread, and the client's free/busy for scheduling mail), code composes it, the gate
 * decides, and an allowed draft is written to the mailbox with intent and outcome audited. Returns the
 * new progress: `drafted` (keeping the facts the send is judged on); `done` when the gate refused (in dry
 * run, after proposing the send); `review` when the model's answer or the draft is unusable.
 */
export async function draftReply(deps: LoopDeps, messageId: string, message: MailMessage, progress: MessageProgress): Promise<MessageProgress> {
  const { context } = deps;
  const { config } = context;
  const type = progress.emailType;
  if (type === undefined) throw new FleetError('integrity', `message ${messageId} is triaged without an email type`);
  const sender = replyRecipient(message);
  const thread = await readThreadContext(deps, message);
  const inbound = withThreadSignals(progress.inbound ?? messageFacts(deps, message), thread, config.mailbox, ownMailProof(deps).sentLabel !== null);
  const calendar: CalendarView =
    SCHEDULING_TYPES.has(type) && deps.calendar !== null ? await readCalendar({ context, calendar: deps.calendar, retry: deps.retry }, messageId) : { notes: '', freeSlots: [] };
  // Who the correspondent is, from the client's CRM: name, role and company only, never notes or pay.
  const person = deps.crm === null || sender === '' ? null : await deps.crm.work.lookUp(sender);
  const facts = templateFacts(message, calendar.freeSlots, person?.name ?? null);
  const notes = calendar.notes;
  const records = correspondentNotes(person);
  const email = forDrafter(message);
  const drafterContext: DraftContext = {
    senderName: config.displayName ?? config.client,
    thread,
    notes,
    records,
    templates: offeredTemplates(config, type),
    nameCandidates: nameCandidatesOf(facts),
    freeSlotStarts: calendar.freeSlots.map((slot) => slot.start),
  };
  const drafted = await callModel(deps, 'draft', messageId, (gate) => deps.llm.draftReply(email, config.styleNotes, drafterContext, { gate }), draftFacts, message.subject);
  if (!drafted.ok) return drafted.progress;
  const reply = composeReply(drafted.value, { message, triageType: type, config, facts, now: context.now() });
  if ('unusable' in reply) return toReview(context, messageId, 'unusable_draft', { issues: reply.unusable.slice(0, 3) }, message.subject);
  return writeDraft(deps, messageId, message, reply, inbound, sender);
}

async function writeDraft(deps: LoopDeps, messageId: string, message: MailMessage, reply: ComposedReply, inbound: InboundFacts, sender: string): Promise<MessageProgress> {
  const { context } = deps;
  const key = replyKey(messageId);
  const parsed = parseProposedAction(replyDraftInput(message, reply.body, reply.emailType, messageId, reply.subject));
  if (!parsed.ok || parsed.action.kind !== 'mail.draft') {
    return toReview(context, messageId, 'unusable_draft', { issues: parsed.ok ? [] : parsed.issues.slice(0, 3) }, message.subject);
  }
  const action = parsed.action;
  const hash = contentHash(action.body);
  const decision = context.gate.evaluateParsed(action, context.policyState(), context.now());
  context.metrics.policyDecision(decision.decision, decision.reasons[0] ?? 'none');
  const base = {
    message_id: messageId,
    idempotency_key: key,
    email_type: reply.emailType,
    subject: action.subject,
    reply_kind: reply.kind,
    ...(reply.templateId === undefined ? {} : { template_id: reply.templateId, template_valid: reply.issues.length === 0 }),
    ...(reply.issues.length === 0 ? {} : { template_issues: reply.issues.slice(0, 3) }),
  };
  const kept: Pick<MessageProgress, 'inbound' | 'template'> = { inbound, ...(reply.template === undefined ? {} : { template: reply.template }) };
  if (decision.decision !== 'allow') {
    const dryRun = decision.reasons.includes('dry_run');
    await context.audit.append(
      gateRefused({ action: 'email_draft', dryRun, target: sender, parameters: { ...base, kind: 'mail.draft', reasons: decision.reasons }, contentHash: hash }),
    );
    if (dryRun) {
      // Dry run: the whole loop runs, nothing is written to the mailbox; the send is proposed and recorded too.
      return proposeDryRunSend(deps, messageId, key, action, reply.emailType, autoSendContext(kept, messageId), kept);
    }
    const refused: MessageProgress = { stage: 'done', at: context.now().toISOString(), emailType: reply.emailType };
    await context.state.setProgress(messageId, refused);
    return refused;
  }
  context.kill.assertAlive('draft');
  await context.audit.append(draftWritten({ to: sender, parameters: base, contentHash: hash, result: 'intended', inbound }));
  // A reply draft may read the message it answers again (Gmail does, for its threading headers): a download.
  const draft = await withProviderRetry(
    () => deps.memory.download(() => deps.provider.createDraft({ to: action.to, subject: action.subject, body: action.body, inReplyTo: messageId, idempotencyKey: key })),
    deps.retry,
  );
  const recorded = context.audit.append(draftWritten({ to: sender, parameters: { ...base, draft_id: draft.id }, contentHash: hash, result: 'success', inbound }));
  const next: MessageProgress = { stage: 'drafted', at: context.now().toISOString(), draftId: draft.id, key, emailType: reply.emailType, ...kept };
  // Two files, two fsyncs: in parallel.
  await Promise.all([recorded, context.state.setProgress(messageId, next)]);
  context.metrics.draftCreated();
  deps.onDraftCreated(messageId, draft);
  return next;
}

/**
 * The thread of the message as the drafter sees it (threadForModel). The thread is a download of up to
 * some megabytes: it is read and minimised as one download of the workers' shared memory for mail, so
 * that only the minimised context outlives it.
 */
export async function readThreadContext(deps: Pick<LoopDeps, 'context' | 'provider' | 'providerKind' | 'retry' | 'memory'>, message: MailMessage): Promise<EmailForModel[]> {
  if (!hasThread(message)) return [];
  const proof = ownMailProof(deps);
  return withProviderRetry(
    () => deps.memory.download(async () => threadForModel(await deps.provider.getThread(message.threadId), message, deps.context.config.mailbox, proof)),
    deps.retry,
  );
}
