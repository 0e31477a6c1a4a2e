import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { canonicalJson, contentHash } from '../../domain/audit-record.ts';
import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import type { OutboundMessage } from '../../ports/send-receipts.ts';
import type { SendRequestMessage } from './outbox-types.ts';
import { validateOutboundMessage } from './validate-message.ts';

/**
 * Builds the message a send request stands for (pure): optional parts filled in, the idempotency key in
 * IDEMPOTENCY_HEADER, checked (FleetError 'invalid_input' for a bad key, header injection or a malformed
 * address), with the hash of its content (subject, text, html) that the audit records carry.
 */
export function buildOutboundMessage(request: SendRequestMessage, idempotencyKey: string): { message: OutboundMessage; contentHash: string } {
  assertIdempotencyKey(idempotencyKey);
  const message: OutboundMessage = {
    to: request.to,
    cc: request.cc ?? [],
    bcc: request.bcc ?? [],
    subject: request.subject,
    text: request.text,
    html: request.html ?? null,
    inReplyTo: request.inReplyTo ?? null,
    threadId: request.threadId ?? null,
    headers: { ...request.headers, [IDEMPOTENCY_HEADER]: idempotencyKey },
  };
  const problems = validateOutboundMessage(message);
  if (problems.length > 0) throw new FleetError('invalid_input', `invalid message: ${problems.join('; ')}`);
  return { message, contentHash: contentHash(canonicalJson({ subject: message.subject, text: message.text, html: message.html })) };
}

/** Everyone the message goes to (the audit target and recipient count). */
export function recipientsOf(message: OutboundMessage): string[] {
  return [...message.to, ...message.cc, ...message.bcc];
}
