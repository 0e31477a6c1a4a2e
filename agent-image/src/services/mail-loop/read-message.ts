import { contentHash } from '../../domain/audit-record.ts';
import { emailRead } from '../../domain/audit-events.ts';
import type { MailMessage } from '../../ports/mail-provider.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { noReplyReason } from './auto-reply-rules.ts';
import type { LoopDeps } from './loop-deps.ts';
import { withProviderRetry } from './provider-retry.ts';

/** One message from the mailbox (kill check first, retried when throttled). */
export function fetchMessage(deps: Pick<LoopDeps, 'context' | 'provider' | 'retry'>, messageId: string): Promise<MailMessage> {
  deps.context.kill.assertAlive('read');
  return withProviderRetry(() => deps.provider.getMessage(messageId), deps.retry);
}

/**
 * The read stage of a queued message: fetched, its read audited and counted, then `read`, or `skipped`
 * when it must never be answered (machine, list or own mail). Returns the message and its new progress.
 */
export async function readMessage(
  deps: Pick<LoopDeps, 'context' | 'provider' | 'retry'>,
  messageId: string,
): Promise<{ message: MailMessage; progress: MessageProgress }> {
  const { context } = deps;
  const message = await fetchMessage(deps, messageId);
  const now = context.now();
  const ageMs = messageAgeMs(message, now);
  const skip = noReplyReason(message, ownAddresses(context));
  await context.audit.append(
    emailRead({
      messageId,
      parameters: { message_id: messageId, thread_id: message.threadId, age_seconds: Math.floor(ageMs / 1000), no_reply: skip },
      contentHash: contentHash(`${message.subject}\n${message.textBody}`),
    }),
  );
  context.metrics.emailsRead();
  context.metrics.dataRead(ageMs);
  context.metrics.action(now, context.config);
  const progress: MessageProgress = { stage: skip === null ? 'read' : 'skipped', at: now.toISOString() };
  await context.state.setProgress(messageId, progress);
  return { message, progress };
}

/** How old the message was when read (its Date header, else its arrival), never negative. Pure. */
export function messageAgeMs(message: MailMessage, now: Date): number {
  const dated = message.date ?? message.receivedAt;
  return Math.max(0, now.getTime() - dated.getTime());
}

function ownAddresses(context: RuntimeContext): Set<string> {
  const own = new Set<string>();
  if (context.config.mailbox !== undefined) own.add(context.config.mailbox);
  return own;
}
