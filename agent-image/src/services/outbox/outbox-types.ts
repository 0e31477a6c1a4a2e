import type { ApprovalStatus, JsonValue } from '../../domain/audit-record.ts';
import type { OutboundMessage, SendReceipt } from '../../ports/send-receipts.ts';
import type { ProviderErrorCategory } from './classify-provider-error.ts';

/**
 * Lifecycle of one send: `pending` (intent durable, not known to be sent) → `sent`; or held for a human:
 * `quarantined` (the provider rejected the message as malformed) or `review` (an error nobody can
 * explain). A held entry returns to `pending` only through `release`. `withdrawn`: it was waiting when
 * the kill switch was pulled, and the revive took it out (it goes only as a human approves it again);
 * `discarded`: withdrawn and then rejected, expired or replaced, never sent by us.
 */
export type OutboxStatus = 'pending' | 'sent' | 'quarantined' | 'review' | 'withdrawn' | 'discarded';

/** A provider error as the outbox keeps it: its category, code and (bounded) message. */
export interface SendError {
  code: string | null;
  message: string;
}

export interface OutboxEntry {
  idempotencyKey: string;
  status: OutboxStatus;
  message: OutboundMessage;
  contentHash: string;
  actor: string;
  approvalStatus: ApprovalStatus;
  approvedBy: string | null;
  createdAt: string;
  receipt: SendReceipt | null;
  /** The send was found at the provider rather than confirmed by our own call (after a crash or timeout). */
  reconciled: boolean;
  lastError: ({ category: ProviderErrorCategory } & SendError) | null;
}

/** The message of a send request; the outbox adds the idempotency header and fills in the optional parts. */
export type SendRequestMessage = Omit<OutboundMessage, 'headers' | 'cc' | 'bcc' | 'html' | 'inReplyTo' | 'threadId'> &
  Partial<Pick<OutboundMessage, 'headers' | 'cc' | 'bcc' | 'html' | 'inReplyTo' | 'threadId'>>;

export interface SendRequest {
  /** The message; the outbox adds the idempotency header. */
  message: SendRequestMessage;
  /**
   * Stable key for this send (e.g. derived from the approval id), so that a caller repeating a request
   * after a crash gets the same entry back. Default: a fresh random key.
   */
  idempotencyKey?: string;
  actor: string;
  approvalStatus: ApprovalStatus;
  approvedBy: string | null;
  /** Extra audit parameters (approval id, email type); plain JSON, never message bodies. */
  auditParameters?: { [key: string]: JsonValue };
}

export type SendOutcome =
  | { status: 'sent'; idempotencyKey: string; receipt: SendReceipt; reconciled: boolean }
  | { status: 'paused'; idempotencyKey: string; reason: string }
  | { status: 'deferred'; idempotencyKey: string; reason: string }
  | { status: 'quarantined' | 'review' | 'withdrawn' | 'discarded'; idempotencyKey: string; reason: string };

export interface RecoveryReport {
  /** Sends found at the provider and recorded (they happened before the crash). */
  reconciled: string[];
  /** Sends made now, because the provider had no trace of them. */
  sent: string[];
  /** Left pending: sending is paused, or transient errors outlasted the retry budget. */
  pending: string[];
  /** Held for a human (quarantine or review). */
  held: string[];
}
