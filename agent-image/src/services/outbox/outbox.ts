import { IDEMPOTENCY_HEADER, assertIdempotencyKey } from '../../domain/idempotency-key.ts';
import { randomUUID } from 'node:crypto';
import { canonicalJson, contentHash, type ApprovalStatus, type JsonValue } from '../../domain/audit-record.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { type OutboundMessage, type SendReceipt, type SendReceipts } from '../../ports/send-receipts.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { KeyRing } from '../audit-log/key-ring.ts';
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffPolicy } from './backoff.ts';
import { classifyProviderError, type ProviderErrorCategory } from './classify-provider-error.ts';
import { OutboxJournal, type JournalTornTail, type OutboxEvent } from './outbox-journal.ts';
import { validateOutboundMessage } from './validate-message.ts';

/**
 * Lifecycle of one send: `pending` (intent durable, not known to be sent) → `sent`; or held for a human:
 * `quarantined` (the provider rejected the message as malformed) or `review` (an error nobody can
 * explain). A held entry returns to `pending` only through `release`.
 */
export type OutboxStatus = 'pending' | 'sent' | 'quarantined' | 'review';

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
  lastError: { category: ProviderErrorCategory; code: string | null; message: string } | null;
}

export interface SendRequest {
  /** The message; the outbox adds the idempotency header. */
  message: Omit<OutboundMessage, 'headers' | 'cc' | 'bcc' | 'html' | 'inReplyTo' | 'threadId'> &
    Partial<Pick<OutboundMessage, 'headers' | 'cc' | 'bcc' | 'html' | 'inReplyTo' | 'threadId'>>;
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
  | { status: 'quarantined' | 'review'; idempotencyKey: string; reason: string };

export interface RecoveryReport {
  /** Sends found at the provider and recorded (they happened before the crash). */
  reconciled: string[];
  /** Sends made now, because the provider had no trace of them. */
  sent: string[];
  /** Left pending: the outbox is paused, or transient errors outlasted the retry budget. */
  pending: string[];
  /** Held for a human (quarantine or review). */
  held: string[];
}

export interface OutboxOptions {
  /** Directory in the client's volume for `outbox.log`. */
  directory: string;
  /** The client's data key or key ring (the same one as the audit log). */
  keys: Buffer | KeyRing;
  /** Every intent and outcome is appended here before (intent) and after (outcome) the provider call. */
  audit: AuditLog;
  now?: () => Date;
  logger?: Logger;
  backoff?: Partial<BackoffPolicy>;
  random?: () => number;
  sleep?: (milliseconds: number) => Promise<void>;
  /** Called once when an authentication failure pauses the outbox, to alert a human. */
  onPause?: (reason: string) => void;
}

const MAX_ERROR_MESSAGE = 500;

function errorSummary(error: unknown): { code: string | null; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' ? code : null, message: message.slice(0, MAX_ERROR_MESSAGE) };
}

/** A provider call failed; distinguishes provider errors from our own storage errors, which must propagate. */
class ProviderCallFailed {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

async function callProvider<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ProviderCallFailed(error);
  }
}

/**
 * Exactly-once sending. Each send is: intent recorded (audit, then outbox journal, both durable) →
 * provider call carrying the idempotency key in IDEMPOTENCY_HEADER → outcome recorded. After a restart,
 * `recover` must run before anything else: it asks the provider about every pending intent and sends
 * only those the provider has no trace of, so a crash at any point neither loses nor duplicates a send.
 */
export class Outbox {
  private readonly journal: OutboxJournal;
  private readonly audit: AuditLog;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly sleep: (milliseconds: number) => Promise<void>;
  private readonly onPause: (reason: string) => void;
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly inFlight = new Map<string, Promise<SendOutcome>>();
  private pausedReason: string | null = null;
  private recovered = false;
  /** Set when opening found and handled a torn write in the journal. */
  readonly tornTail: JournalTornTail | null;

  private constructor(options: OutboxOptions, journal: OutboxJournal, events: OutboxEvent[], torn: JournalTornTail | null) {
    this.journal = journal;
    this.audit = options.audit;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger ?? createSilentLogger();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
    this.onPause = options.onPause ?? (() => undefined);
    this.tornTail = torn;
    for (const event of events) this.apply(event);
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const now = (options.now ?? (() => new Date()))();
    const { journal, events, torn } = await OutboxJournal.open(options.directory, KeyRing.from(options.keys), now);
    const outbox = new Outbox(options, journal, events, torn);
    if (torn !== null) outbox.logger.warn('outbox: a write cut short by a crash was found on open', { ...torn });
    return outbox;
  }

  /** Why sending is paused (an authentication failure), or null. */
  get paused(): string | null {
    return this.pausedReason;
  }

  list(status?: OutboxStatus): OutboxEntry[] {
    return [...this.entries.values()].filter((entry) => status === undefined || entry.status === status).map((entry) => structuredClone(entry));
  }

  get(idempotencyKey: string): OutboxEntry | undefined {
    const entry = this.entries.get(idempotencyKey);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  /**
   * Reconciles every pending intent with the provider: recorded as sent when the provider has it,
   * sent now when it does not. Must run after `open` before `enqueue` or `dispatch`; run it again after
   * `resume` or to retry entries deferred by transient errors.
   */
  async recover(provider: SendReceipts): Promise<RecoveryReport> {
    const report: RecoveryReport = { reconciled: [], sent: [], pending: [], held: [] };
    for (const entry of [...this.entries.values()].filter((candidate) => candidate.status === 'pending')) {
      const outcome = await this.dispatchOnce(entry.idempotencyKey, provider, true);
      if (outcome.status === 'sent') (outcome.reconciled ? report.reconciled : report.sent).push(outcome.idempotencyKey);
      else if (outcome.status === 'paused' || outcome.status === 'deferred') report.pending.push(outcome.idempotencyKey);
      else report.held.push(outcome.idempotencyKey);
    }
    this.recovered = true;
    if (report.reconciled.length + report.sent.length + report.pending.length + report.held.length > 0) {
      this.logger.info('outbox: recovered pending sends', {
        reconciled: report.reconciled.length,
        sent: report.sent.length,
        pending: report.pending.length,
        held: report.held.length,
      });
    }
    return report;
  }

  /**
   * Records the intent to send (audit record, then outbox entry, both durable) and returns the entry.
   * Repeating a request with the same idempotency key returns the existing entry; the same key with
   * different content is a conflict.
   */
  async enqueue(request: SendRequest): Promise<OutboxEntry> {
    this.assertRecovered();
    const key = request.idempotencyKey ?? `af-${randomUUID()}`;
    assertIdempotencyKey(key);
    const message: OutboundMessage = {
      to: request.message.to,
      cc: request.message.cc ?? [],
      bcc: request.message.bcc ?? [],
      subject: request.message.subject,
      text: request.message.text,
      html: request.message.html ?? null,
      inReplyTo: request.message.inReplyTo ?? null,
      threadId: request.message.threadId ?? null,
      headers: { ...request.message.headers, [IDEMPOTENCY_HEADER]: key },
    };
    const problems = validateOutboundMessage(message);
    if (problems.length > 0) throw new FleetError('invalid_input', `invalid message: ${problems.join('; ')}`);
    const hash = contentHash(canonicalJson({ subject: message.subject, text: message.text, html: message.html }));
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.contentHash !== hash) {
        throw new FleetError('conflict', `idempotency key ${key} was already used for a different message`);
      }
      return structuredClone(existing);
    }
    const recipients = [...message.to, ...message.cc, ...message.bcc];
    await this.audit.append({
      action_type: 'email_send',
      actor: request.actor,
      target: recipients.join(', ').slice(0, 2000),
      parameters: {
        ...request.auditParameters,
        idempotency_key: key,
        subject: message.subject,
        recipients: recipients.length,
      },
      approval_status: request.approvalStatus,
      approved_by: request.approvedBy,
      result: 'intended',
      content_hash: hash,
    });
    const event: OutboxEvent = {
      type: 'intent',
      at: this.now().toISOString(),
      key,
      message,
      contentHash: hash,
      actor: request.actor,
      approvalStatus: request.approvalStatus,
      approvedBy: request.approvedBy,
    };
    await this.journal.append(event);
    this.apply(event);
    return structuredClone(this.entries.get(key) as OutboxEntry);
  }

  /** Sends a pending entry through the provider, with retries for transient errors. */
  dispatch(idempotencyKey: string, provider: SendReceipts): Promise<SendOutcome> {
    this.assertRecovered();
    return this.dispatchOnce(idempotencyKey, provider, false);
  }

  /** `enqueue` then `dispatch`. */
  async send(request: SendRequest, provider: SendReceipts): Promise<SendOutcome> {
    const entry = await this.enqueue(request);
    return this.dispatch(entry.idempotencyKey, provider);
  }

  /** Lifts an authentication pause (a human fixed the credentials). Run `recover` next. */
  async resume(by: string): Promise<void> {
    if (this.pausedReason === null) return;
    await this.audit.append({
      action_type: 'resume',
      actor: by,
      target: 'outbox',
      parameters: {},
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
    });
    const event: OutboxEvent = { type: 'resumed', at: this.now().toISOString(), by };
    await this.journal.append(event);
    this.apply(event);
  }

  /** Returns a quarantined or reviewed entry to pending after a human looked at it. */
  async release(idempotencyKey: string, by: string): Promise<void> {
    const entry = this.entries.get(idempotencyKey);
    if (entry === undefined) throw new FleetError('not_found', `no outbox entry ${idempotencyKey}`);
    if (entry.status !== 'quarantined' && entry.status !== 'review') {
      throw new FleetError('conflict', `outbox entry ${idempotencyKey} is ${entry.status}, not held`);
    }
    await this.audit.append({
      action_type: 'send_released',
      actor: by,
      target: idempotencyKey,
      parameters: { idempotency_key: idempotencyKey, was: entry.status },
      approval_status: 'approved',
      approved_by: by,
      result: 'success',
      content_hash: entry.contentHash,
    });
    const event: OutboxEvent = { type: 'released', at: this.now().toISOString(), key: idempotencyKey, by };
    await this.journal.append(event);
    this.apply(event);
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private assertRecovered(): void {
    if (!this.recovered) throw new FleetError('conflict', 'outbox: recover(provider) must run before any new send');
  }

  private dispatchOnce(key: string, provider: SendReceipts, lookUpFirst: boolean): Promise<SendOutcome> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const promise = this.run(key, provider, lookUpFirst).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  private async run(key: string, provider: SendReceipts, lookUpFirst: boolean): Promise<SendOutcome> {
    const entry = this.entries.get(key);
    if (entry === undefined) throw new FleetError('not_found', `no outbox entry ${key}`);
    if (entry.status === 'sent' && entry.receipt !== null) {
      return { status: 'sent', idempotencyKey: key, receipt: entry.receipt, reconciled: entry.reconciled };
    }
    if (entry.status === 'quarantined' || entry.status === 'review') {
      return { status: entry.status, idempotencyKey: key, reason: entry.lastError?.message ?? 'held' };
    }
    let mayHaveReachedProvider = lookUpFirst;
    for (let attempt = 0; ; attempt++) {
      if (this.pausedReason !== null) return { status: 'paused', idempotencyKey: key, reason: this.pausedReason };
      try {
        // A call that failed (or a crash) may still have sent the message: never retry without asking.
        if (mayHaveReachedProvider) {
          const found = await callProvider(() => provider.findSentByIdempotencyKey(key));
          if (found !== null) return await this.recordSent(entry, found, true);
        }
        mayHaveReachedProvider = true;
        const receipt = await callProvider(() => provider.send(structuredClone(entry.message)));
        return await this.recordSent(entry, receipt, false);
      } catch (thrown) {
        if (!(thrown instanceof ProviderCallFailed)) throw thrown;
        const category = classifyProviderError(thrown.error);
        const summary = errorSummary(thrown.error);
        entry.lastError = { category, ...summary };
        if (category === 'transient') {
          if (attempt + 1 >= this.backoff.maxAttempts) {
            await this.auditOutcome(entry, 'email_send', 'failure', { error_category: category, deferred: true });
            return { status: 'deferred', idempotencyKey: key, reason: summary.message };
          }
          await this.sleep(fullJitterDelay(attempt, this.backoff, this.random));
          continue;
        }
        if (category === 'auth') {
          await this.pause(entry, summary.message);
          return { status: 'paused', idempotencyKey: key, reason: summary.message };
        }
        return await this.hold(entry, category === 'data' ? 'quarantined' : 'review', category, summary);
      }
    }
  }

  private async recordSent(entry: OutboxEntry, receipt: SendReceipt, reconciled: boolean): Promise<SendOutcome> {
    // Audit first: if we crash before the journal, recovery finds the send again and records it again,
    // which is better than a send missing from the audit log.
    await this.auditOutcome(entry, 'email_send', 'success', {
      provider_message_id: receipt.providerMessageId,
      reconciled,
    });
    const event: OutboxEvent = { type: 'sent', at: this.now().toISOString(), key: entry.idempotencyKey, receipt, reconciled };
    await this.journal.append(event);
    this.apply(event);
    return { status: 'sent', idempotencyKey: entry.idempotencyKey, receipt, reconciled };
  }

  private async hold(
    entry: OutboxEntry,
    status: 'quarantined' | 'review',
    category: ProviderErrorCategory,
    error: { code: string | null; message: string },
  ): Promise<SendOutcome> {
    await this.auditOutcome(entry, status === 'quarantined' ? 'quarantine' : 'review_queued', 'failure', {
      error_category: category,
      error_code: error.code,
    });
    const event: OutboxEvent = { type: 'held', at: this.now().toISOString(), key: entry.idempotencyKey, status, category, error };
    await this.journal.append(event);
    this.apply(event);
    this.logger.warn(`outbox: send held for a human (${status})`, { idempotencyKey: entry.idempotencyKey, category, code: error.code });
    return { status, idempotencyKey: entry.idempotencyKey, reason: error.message };
  }

  private async pause(entry: OutboxEntry, reason: string): Promise<void> {
    if (this.pausedReason !== null) return;
    await this.auditOutcome(entry, 'auth_failure', 'failure', { error_category: 'auth' });
    await this.audit.append({
      action_type: 'pause',
      actor: 'system',
      target: 'outbox',
      parameters: { reason: 'provider authentication failed' },
      approval_status: 'not_required',
      approved_by: null,
      result: 'success',
    });
    const event: OutboxEvent = { type: 'paused', at: this.now().toISOString(), reason };
    await this.journal.append(event);
    this.apply(event);
    this.logger.error('outbox: provider authentication failed; sending paused until resumed', {
      idempotencyKey: entry.idempotencyKey,
    });
    this.onPause(reason);
  }

  private async auditOutcome(
    entry: OutboxEntry,
    actionType: 'email_send' | 'quarantine' | 'review_queued' | 'auth_failure',
    result: 'success' | 'failure',
    parameters: { [key: string]: JsonValue },
  ): Promise<void> {
    await this.audit.append({
      action_type: actionType,
      actor: entry.actor,
      target: [...entry.message.to, ...entry.message.cc, ...entry.message.bcc].join(', ').slice(0, 2000),
      parameters: { idempotency_key: entry.idempotencyKey, ...parameters },
      approval_status: entry.approvalStatus,
      approved_by: entry.approvedBy,
      result,
      content_hash: entry.contentHash,
    });
  }

  private apply(event: OutboxEvent): void {
    switch (event.type) {
      case 'intent':
        this.entries.set(event.key, {
          idempotencyKey: event.key,
          status: 'pending',
          message: event.message,
          contentHash: event.contentHash,
          actor: event.actor,
          approvalStatus: event.approvalStatus,
          approvedBy: event.approvedBy,
          createdAt: event.at,
          receipt: null,
          reconciled: false,
          lastError: null,
        });
        return;
      case 'sent': {
        const entry = this.entries.get(event.key);
        if (entry === undefined) return;
        entry.status = 'sent';
        entry.receipt = event.receipt;
        entry.reconciled = event.reconciled;
        return;
      }
      case 'held': {
        const entry = this.entries.get(event.key);
        if (entry === undefined) return;
        entry.status = event.status;
        entry.lastError = { category: event.category, ...event.error };
        return;
      }
      case 'released': {
        const entry = this.entries.get(event.key);
        if (entry !== undefined) entry.status = 'pending';
        return;
      }
      case 'paused':
        this.pausedReason = event.reason;
        return;
      case 'resumed':
        this.pausedReason = null;
        return;
    }
  }
}
