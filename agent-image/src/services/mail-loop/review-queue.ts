import { reviewQueued } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';

/**
 * Parks a message for a human: audited first, then its progress set to `review` with the reason (the
 * control API lists the queue from it), which is returned.
 */
export async function toReview(
  context: RuntimeContext,
  messageId: string,
  reason: string,
  parameters: { [key: string]: JsonValue } = {},
): Promise<MessageProgress> {
  await context.audit.append(reviewQueued(messageId, reason, parameters));
  const progress: MessageProgress = { stage: 'review', at: context.now().toISOString(), reviewReason: reason };
  await context.state.setProgress(messageId, progress);
  return progress;
}
