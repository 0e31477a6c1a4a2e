import { EMAIL_TYPES, type EmailType } from '@agent-fleet/kernel/client-config';
import type { JsonValue } from '../../domain/audit-record.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import { forModel } from './email-for-model.ts';
import type { LoopDeps } from './loop-deps.ts';
import { fileMessage } from './message-filing.ts';
import { callModel } from './model-call.ts';
import { toReview } from './review-queue.ts';

/** Model types that never get a reply drafted. */
export const NO_REPLY_TYPES: ReadonlySet<string> = new Set(['spam', 'newsletter']);
/** Below this confidence the model is confused: a human looks instead. */
export const MIN_CONFIDENCE = 0.5;

/** What a classification leads to: filing, closing unfiled (an unsure no-reply type), or human review. */
export type ClassificationVerdict = 'file' | 'close' | 'review';

/** Pure. */
export function classificationVerdict(type: string, confidence: number): ClassificationVerdict {
  if (confidence < MIN_CONFIDENCE) return NO_REPLY_TYPES.has(type) ? 'close' : 'review';
  return 'file';
}

/** Whether a message of this type gets a reply drafted. Pure. */
export function needsReply(type: string): boolean {
  return !NO_REPLY_TYPES.has(type);
}

/** The stored classification, when it is one the model could give. Pure. */
export function asEmailType(value: string | undefined): EmailType | undefined {
  return (EMAIL_TYPES as readonly string[]).includes(value ?? '') ? (value as EmailType) : undefined;
}

/** What the `llm_call` record of a classification says about its answer. Pure. */
export function classificationFacts(value: unknown): { [key: string]: JsonValue } {
  const classification = value as { type?: unknown; confidence?: unknown };
  return {
    email_type: typeof classification.type === 'string' ? classification.type : null,
    confidence: typeof classification.confidence === 'number' ? classification.confidence : null,
  };
}

/**
 * The triage stage of a read message: classified by the model, then filed (label, mark read, archive as
 * the config asks) and recorded as filed with its type. Returns the new progress: still `read` (filed,
 * with its type) when a reply is to be drafted; `done` for a type that gets none; `review` when the
 * model is unsure or its answer unusable.
 */
export async function triageMessage(deps: LoopDeps, messageId: string, message: MailMessage, progress: MessageProgress): Promise<MessageProgress> {
  const { context } = deps;
  // Filed before a restart: the classification is kept, so neither the model nor the mailbox is asked twice.
  let type = progress.filed === true ? asEmailType(progress.emailType) : undefined;
  let triaged = progress;
  if (type === undefined) {
    const email = forModel(message);
    const classified = await callModel(deps, 'classify', messageId, (gate) => deps.llm.classify(email, { gate }), classificationFacts, message.subject);
    if (!classified.ok) return classified.progress;
    const { confidence } = classified.value;
    type = classified.value.type;
    const verdict = classificationVerdict(type, confidence);
    if (verdict === 'close') return done(deps, messageId, type);
    if (verdict === 'review') return toReview(context, messageId, 'low_confidence', { email_type: type, confidence }, message.subject);
    await fileMessage({ context, provider: deps.provider, retry: deps.retry }, messageId, type);
    triaged = { stage: 'read', at: context.now().toISOString(), emailType: type, filed: true, ...(progress.inbound === undefined ? {} : { inbound: progress.inbound }) };
    await context.state.setProgress(messageId, triaged);
  }
  if (!needsReply(type)) return done(deps, messageId, type);
  return triaged;
}

async function done(deps: LoopDeps, messageId: string, emailType: string): Promise<MessageProgress> {
  const progress: MessageProgress = { stage: 'done', at: deps.context.now().toISOString(), emailType };
  await deps.context.state.setProgress(messageId, progress);
  return progress;
}
