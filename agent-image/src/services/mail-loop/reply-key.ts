import { createHash } from 'node:crypto';

/** The idempotency key of the reply to a message: the draft's header and the outbox key. Pure. */
export function replyKey(messageId: string): string {
  return `re-${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}`;
}
