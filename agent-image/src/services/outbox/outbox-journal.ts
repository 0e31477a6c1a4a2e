import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApprovalStatus } from '../../domain/audit-record.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OutboundMessage, SendReceipt } from '../../ports/send-receipts.ts';
import { openEnvelope, sealEnvelope } from '../audit-log/envelope.ts';
import { GroupCommitAppender } from '../audit-log/group-commit-appender.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { completeTornLine, quarantineTornTail, readLineFile } from '../audit-log/line-file.ts';
import type { ProviderErrorCategory } from './classify-provider-error.ts';

/** What happened to the outbox, one durable event per line (encrypted like the audit log). */
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
  | {
      type: 'held';
      at: string;
      key: string;
      status: 'quarantined' | 'review';
      category: ProviderErrorCategory;
      error: { code: string | null; message: string };
    }
  | { type: 'released'; at: string; key: string; by: string }
  | { type: 'paused'; at: string; reason: string }
  | { type: 'resumed'; at: string; by: string };

export const OUTBOX_FILE = 'outbox.log';
const EVENT_TYPES = new Set(['intent', 'sent', 'held', 'released', 'paused', 'resumed']);

function decodeEvent(keys: KeyRing, line: string): { seq: number; event: OutboxEvent } {
  const opened = openEnvelope(keys, 'outbox', Buffer.from(line, 'base64'));
  let value: unknown;
  try {
    value = JSON.parse(opened.plaintext.toString('utf8'));
  } catch (error) {
    throw new FleetError('integrity', `outbox event ${opened.seq} is not JSON`, { cause: error });
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new FleetError('integrity', `outbox event ${opened.seq} has an unknown type`);
  }
  return { seq: opened.seq, event: value as OutboxEvent };
}

export interface JournalTornTail {
  bytes: number;
  kept: boolean;
  quarantinedTo: string | null;
}

/** The outbox's durable, encrypted, append-only event journal (`outbox.log`). */
export class OutboxJournal {
  private readonly keys: KeyRing;
  private readonly appender: GroupCommitAppender;
  private seq: number;

  private constructor(directory: string, keys: KeyRing, seq: number) {
    this.keys = keys;
    this.appender = new GroupCommitAppender(directory);
    this.seq = seq;
  }

  /**
   * Opens the journal and replays it. A write torn by a crash (never acknowledged) is kept when whole or
   * moved aside; any other unreadable event stops the outbox (FleetError 'integrity').
   */
  static async open(
    directory: string,
    keys: KeyRing,
    now: Date,
  ): Promise<{ journal: OutboxJournal; events: OutboxEvent[]; torn: JournalTornTail | null }> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, OUTBOX_FILE);
    const content = await readLineFile(path);
    const events: OutboxEvent[] = [];
    let seq = 0;
    for (const line of content.lines) {
      const decoded = decodeEvent(keys, line);
      if (decoded.seq !== seq + 1) throw new FleetError('integrity', `outbox event ${seq + 1} is missing or out of order`);
      seq = decoded.seq;
      events.push(decoded.event);
    }
    let torn: JournalTornTail | null = null;
    if (content.tail.length > 0) {
      let whole: { seq: number; event: OutboxEvent } | null = null;
      try {
        whole = decodeEvent(keys, content.tail);
      } catch {
        whole = null;
      }
      if (whole !== null && whole.seq === seq + 1) {
        await completeTornLine(path);
        seq = whole.seq;
        events.push(whole.event);
        torn = { bytes: content.tail.length, kept: true, quarantinedTo: null };
      } else {
        const quarantinedTo = await quarantineTornTail(path, content, String(now.getTime()));
        torn = { bytes: content.tail.length, kept: false, quarantinedTo };
      }
    }
    return { journal: new OutboxJournal(directory, keys, seq), events, torn };
  }

  /** Appends an event; resolves once it is durable. */
  append(event: OutboxEvent): Promise<void> {
    this.seq++;
    const line = sealEnvelope(this.keys, 'outbox', this.seq, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64');
    return this.appender.append(OUTBOX_FILE, line);
  }

  close(): Promise<void> {
    return this.appender.close();
  }
}

