import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { canonicalJson, contentHash, type ApprovalStatus } from '../../domain/audit-record.ts';
import { autoSubmittedFor, withAutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import type { OutboundMessage } from '../../ports/send-receipts.ts';
import type { SendRequestMessage } from './outbox-types.ts';
import { validateOutboundMessage } from './validate-message.ts';

/**
 * Builds the message a send request stands for (pure): optional parts filled in, the idempotency key in
 * IDEMPOTENCY_HEADER, checked (FleetError 'invalid_input' for a bad key, header injection or a malformed
 * address), with the hash of its content (subject, text, html) that the audit records carry. With
 * `approvalStatus` (who let the send go), the automatic-send marks (Auto-Submitted,
 * X-Auto-Response-Suppress) follow from it alone: set on what no human approved, never on what one did,
 * whatever the request's headers said (auto-submitted.ts).
 */
export function buildOutboundMessage(
  request: SendRequestMessage,
  idempotencyKey: string,
  approvalStatus?: ApprovalStatus,
): { message: OutboundMessage; contentHash: string } {
  assertIdempotencyKey(idempotencyKey);
  const headers = approvalStatus === undefined ? { ...request.headers } : withAutoSubmitted(request.headers ?? {}, autoSubmittedFor(approvalStatus));
  const message: OutboundMessage = {
    to: request.to,
    cc: request.cc ?? [],
    bcc: request.bcc ?? [],
    subject: request.subject,
    text: request.text,
    html: request.html ?? null,
    inReplyTo: request.inReplyTo ?? null,
    threadId: request.threadId ?? null,
    headers: { ...headers, [IDEMPOTENCY_HEADER]: idempotencyKey },
  };
  const problems = validateOutboundMessage(message);
  if (problems.length > 0) throw new FleetError('invalid_input', `invalid message: ${problems.join('; ')}`);
  return { message, contentHash: contentHash(canonicalJson({ subject: message.subject, text: message.text, html: message.html })) };
}

/** Everyone the message goes to (the audit target and recipient count). */
export function recipientsOf(message: OutboundMessage): string[] {
  return [...message.to, ...message.cc, ...message.bcc];
}
