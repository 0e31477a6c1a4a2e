import * as z from 'zod';
import { approvalStatusAt, type ApprovalRecord, type ApprovalStatus } from '../../domain/approval.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentMetrics } from '../../observability/agent-metrics.ts';
import type { KeyRing } from '../audit-log/key-ring.ts';
import { EncryptedJournal } from './encrypted-journal.ts';

/** What the admin needs to decide, and no more of the email than that. */
export interface ApprovalPreview {
  to: string[];
  cc: string[];
  subject: string;
  /** The first characters of the proposed body. */
  bodyPreview: string;
  emailType: string | null;
  /**
   * For a reply: the message answered as code judged it. Its injection signals are shown to the approver;
   * absent on records written before they were kept.
   */
  inbound?: { sender: string; senderAuthenticated: boolean; injectionSignals: string[] };
  /**
   * The calendar event approved together with the email (a scheduling confirmation's): title, start and
   * end (ISO 8601 in the client's zone), the zone, and the attendees it invites. Absent for a plain email.
   */
  event?: { title: string; start: string; end: string | null; timeZone: string; attendees: string[] };
}

/**
 * Execution of an approved action. `waiting`: approved, not yet run (gate said wait: paused or rate
 * limit); `done`: ran (the outbox owns exactly-once); `blocked`: the gate refused it even with approval.
 */
export type ApprovalExecution = 'none' | 'waiting' | 'done' | 'blocked';

export interface StoredApproval {
  record: ApprovalRecord;
  /** Idempotency key of the send (also on the draft in the mailbox). */
  idempotencyKey: string;
  /** Provider id of the message the reply answers, if any. */
  messageId: string | null;
  draftId: string | null;
  preview: ApprovalPreview;
  execution: ApprovalExecution;
  /** The settings version the approval was asked under (absent on records made before versions). */
  settingsVersion?: number;
  /**
   * The recipients the block list of that version matched when the approval was asked: those its approver
   * was told are blocked, the only blocked ones the approval covers (EvaluateOptions.approvalBlocked).
   * Absent on records made before they were kept, or when the version was not known.
   */
  blockedRecipients?: string[];
}

const storedSchema = z
  .object({
    record: z.looseObject({ id: z.string().min(1).max(200), status: z.enum(['pending', 'approved', 'edited', 'rejected', 'expired']) }),
    idempotencyKey: z.string().min(1).max(200),
    messageId: z.string().max(2000).nullable(),
    draftId: z.string().max(2000).nullable(),
    preview: z
      .object({
        to: z.array(z.string().max(1000)).max(10_000),
        cc: z.array(z.string().max(1000)).max(10_000),
        subject: z.string().max(10_000),
        bodyPreview: z.string().max(10_000),
        emailType: z.string().max(64).nullable(),
        inbound: z
          .object({ sender: z.string().max(1000), senderAuthenticated: z.boolean(), injectionSignals: z.array(z.string().max(64)).max(32) })
          .strict()
          .optional(),
        event: z
          .object({
            title: z.string().max(10_000),
            start: z.string().max(64),
            end: z.string().max(64).nullable(),
            timeZone: z.string().max(100),
            attendees: z.array(z.string().max(1000)).max(10_000),
          })
          .strict()
          .optional(),
      })
      .strict(),
    execution: z.enum(['none', 'waiting', 'done', 'blocked']),
    settingsVersion: z.number().int().min(0).optional(),
    blockedRecipients: z.array(z.string().max(1000)).max(20_000).optional(),
  })
  .strict();

const DAY_MS = 86_400_000;
const KEEP_DECIDED_MS = 30 * DAY_MS;

/** Approval records with their context, persisted encrypted in the volume (`state/approvals.log`). */
export class ApprovalStore {
  private readonly journal: EncryptedJournal<StoredApproval>;
  private readonly entries = new Map<string, StoredApproval>();

  private constructor(journal: EncryptedJournal<StoredApproval>, events: StoredApproval[]) {
    this.journal = journal;
    for (const event of events) this.entries.set(event.record.id, event);
  }

  static async open(options: { directory: string; keys: KeyRing; now?: () => Date }): Promise<ApprovalStore> {
    const now = options.now ?? (() => new Date());
    const { journal, events } = await EncryptedJournal.open<StoredApproval>({
      directory: options.directory,
      file: 'approvals.log',
      purpose: 'state',
      keys: options.keys,
      parse: (value) => {
        const parsed = storedSchema.safeParse(value);
        if (!parsed.success) throw new FleetError('integrity', 'approvals.log holds a record of an unknown shape');
        return value as StoredApproval;
      },
      snapshot: (events) => {
        const latest = new Map<string, StoredApproval>();
        for (const event of events) latest.set(event.record.id, event);
        const cutoff = now().getTime() - KEEP_DECIDED_MS;
        return [...latest.values()].filter(
          (entry) => entry.record.status === 'pending' || entry.execution === 'waiting' || Date.parse(entry.record.createdAt) > cutoff,
        );
      },
      now,
    });
    return new ApprovalStore(journal, events);
  }

  get(id: string): StoredApproval | undefined {
    const entry = this.entries.get(id);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  /** Records as of `now` (a pending one past its expiry is reported expired), newest first. */
  list(now: Date, status?: ApprovalStatus): StoredApproval[] {
    const result: StoredApproval[] = [];
    for (const entry of this.entries.values()) {
      const current = approvalStatusAt(entry.record, now);
      if (status !== undefined && current !== status) continue;
      result.push(structuredClone({ ...entry, record: { ...entry.record, status: current } }));
    }
    return result.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt));
  }

  /** Pending records whose expiry has come (still stored as pending). */
  dueForExpiry(now: Date): StoredApproval[] {
    return [...this.entries.values()]
      .filter((entry) => entry.record.status === 'pending' && approvalStatusAt(entry.record, now) === 'expired')
      .map((entry) => structuredClone(entry));
  }

  waitingExecution(): StoredApproval[] {
    return [...this.entries.values()].filter((entry) => entry.execution === 'waiting').map((entry) => structuredClone(entry));
  }

  pendingCount(now: Date): number {
    let count = 0;
    for (const entry of this.entries.values()) if (approvalStatusAt(entry.record, now) === 'pending') count++;
    return count;
  }

  /** Pending approvals that expire within `withinMs` (default 12 hours): the admins should look now. */
  expiringSoonCount(now: Date, withinMs = 12 * 3600_000): number {
    let count = 0;
    for (const entry of this.entries.values()) {
      const expiresAt = Date.parse(entry.record.expiresAt);
      if (approvalStatusAt(entry.record, now) === 'pending' && expiresAt - now.getTime() <= withinMs) count++;
    }
    return count;
  }

  /** True when a record for this idempotency key exists (a message is never put up for approval twice). */
  hasKey(idempotencyKey: string): boolean {
    for (const entry of this.entries.values()) if (entry.idempotencyKey === idempotencyKey) return true;
    return false;
  }

  /** Stores a new or changed record durably. */
  put(entry: StoredApproval): Promise<void> {
    const copy = structuredClone(entry);
    this.entries.set(copy.record.id, copy);
    return this.journal.append(copy);
  }

  close(): Promise<void> {
    return this.journal.close();
  }
}

/** Publishes the approval queue's gauges (pending, expiring soon) after anything changed it. */
export function publishApprovalGauges(
  metrics: Pick<AgentMetrics, 'setApprovalsPending' | 'setApprovalsExpiringSoon'>,
  approvals: ApprovalStore,
  now: Date,
): void {
  metrics.setApprovalsPending(approvals.pendingCount(now));
  metrics.setApprovalsExpiringSoon(approvals.expiringSoonCount(now));
}
