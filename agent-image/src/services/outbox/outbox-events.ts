import type { ApprovalStatus } from '../../domain/audit-record.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OutboundMessage, SendReceipt } from '../../ports/send-receipts.ts';
import type { ProviderErrorCategory } from './classify-provider-error.ts';
import type { OutboxEntry, SendError } from './outbox-types.ts';

/** What happened to the outbox, one durable event per line of `outbox.log` (encrypted like the audit log). */
export type OutboxEvent =
  | {
      type: 'intent';
      at: string;
      key: string;
      message: OutboundMessage;
      contentHash: string;
      actor: string;
      approvalStatus: ApprovalStatus;
      approvedBy: string | null;
    }
  | { type: 'sent'; at: string; key: string; receipt: SendReceipt; reconciled: boolean }
  | { type: 'held'; at: string; key: string; status: 'quarantined' | 'review'; category: ProviderErrorCategory; error: SendError }
  | { type: 'released'; at: string; key: string; by: string }
  | { type: 'withdrawn'; at: string; key: string; by: string }
  | { type: 'discarded'; at: string; key: string; by: string }
  /** One entry as it stands, written by compaction in place of the events that made it. */
  | { type: 'entry'; at: string; entry: OutboxEntry }
  /**
   * Written by outboxes that kept a pause flag of their own; still read, never written. The pause now
   * lives only in the agent's state store (see SendPause).
   */
  | { type: 'paused'; at: string; reason: string }
  | { type: 'resumed'; at: string; by: string };

export const OUTBOX_FILE = 'outbox.log';

const EVENT_TYPES = new Set(['intent', 'sent', 'held', 'released', 'withdrawn', 'discarded', 'entry', 'paused', 'resumed']);

/** Checks one decrypted event's type (the file is untrusted; the envelope already authenticated it). */
export function parseOutboxEvent(value: unknown): OutboxEvent {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new FleetError('integrity', `${OUTBOX_FILE} holds an event of an unknown type`);
  }
  return value as OutboxEvent;
}
