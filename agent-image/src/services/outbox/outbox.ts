import { randomUUID } from 'node:crypto';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { outboxResumed, paused, sendDiscarded, sendRecord, sendReleased, sendWithdrawn } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import { autoSubmittedFor, withAutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import type { OutboundMessage, SendReceipt, SendReceipts } from '../../ports/send-receipts.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { KeyRing } from '../audit-log/key-ring.ts';
import { EncryptedJournal, type JournalTornTail } from '../runtime/encrypted-journal.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { buildOutboundMessage, recipientsOf } from './outbound-message.ts';
import { OUTBOX_FILE, parseOutboxEvent, type OutboxEvent } from './outbox-events.ts';
import { reduceOutbox, replayOutbox, snapshotOutbox } from './outbox-state.ts';
import type { ProviderErrorCategory } from './classify-provider-error.ts';
import type { OutboxEntry, OutboxStatus, RecoveryReport, SendError, SendOutcome, SendRequest } from './outbox-types.ts';
import { attemptSend, type SendAttemptOptions } from './send-attempt.ts';
import type { SendPause } from './send-pause.ts';

const DEFAULT_MAX_DEFERRALS = 1440;

export type { OutboxEntry, OutboxStatus, RecoveryReport, SendOutcome, SendRequest } from './outbox-types.ts';

export interface OutboxOptions {
  /** Directory in the client's volume for `outbox.log`. */
  directory: string;
  /** The client's data key or key ring (the same one as the audit log). */
  keys: Buffer | KeyRing;
  /** Every intent and outcome is appended here before (intent) and after (outcome) the provider call. */
  audit: AuditLog;
  /** The agent's pause flag: read before every provider call, raised when the provider refuses our credentials. */
  pause: SendPause;
  now?: () => Date;
  logger?: Logger;
  backoff?: Partial<BackoffPolicy>;
  /**
   * Dispatches of one send deferred in a row (each after `backoff.maxAttempts` calls) before it is held
   * for human review instead. Default 1440: about a day of the agent's one-minute rounds.
   */
  maxDeferrals?: number;
  random?: () => number;
  sleep?: (milliseconds: number) => Promise<void>;
}

/**
 * Exactly-once sending. Each send is: intent recorded (audit, then outbox journal, both durable) →
 * provider call carrying the idempotency key in IDEMPOTENCY_HEADER → outcome recorded. After a restart,
 * `recover` must run before anything else: it asks the provider about every pending intent and sends
 * only those the provider has no trace of, so a crash at any point neither loses nor duplicates a send.
 */
export class Outbox {
  private readonly journal: EncryptedJournal<OutboxEvent>;
  private readonly audit: AuditLog;
  private readonly pause: SendPause;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly attempt: Omit<SendAttemptOptions, 'onError'>;
  private readonly entries: Map<string, OutboxEntry>;
  private readonly inFlight = new Map<string, Promise<SendOutcome>>();
  /**
   * Keys that may have reached the provider without a recorded outcome: handed to it in this process
   * (a lost answer, a deferral, a failed write of the outcome) or sent anew after a discard. The provider
   * is asked about them before any further send.
   */
  private readonly reconcileFirst = new Set<string>();
  /** Dispatches of a key deferred in a row (transient errors outlasting the retry budget), this process. */
  private readonly deferrals = new Map<string, number>();
  private readonly maxDeferrals: number;
  private recovered = false;
  /** Set when opening found and handled a torn write in the journal. */
  readonly tornTail: JournalTornTail | null;

  private constructor(options: OutboxOptions, journal: EncryptedJournal<OutboxEvent>, events: OutboxEvent[], torn: JournalTornTail | null) {
    this.journal = journal;
    this.audit = options.audit;
    this.pause = options.pause;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger ?? createSilentLogger();
    this.attempt = {
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      random: options.random ?? Math.random,
      sleep: options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds))),
      paused: () => this.pause.authPause(),
    };
    this.maxDeferrals = Math.max(1, options.maxDeferrals ?? DEFAULT_MAX_DEFERRALS);
    this.tornTail = torn;
    this.entries = replayOutbox(events);
    // Whatever a previous process left unfinished may have reached the provider before it stopped.
    for (const entry of this.entries.values()) if (entry.status !== 'sent' && entry.status !== 'discarded') this.reconcileFirst.add(entry.idempotencyKey);
  }

  static async open(options: OutboxOptions): Promise<Outbox> {
    const { journal, events, torn } = await EncryptedJournal.open<OutboxEvent>({
      directory: options.directory,
      file: OUTBOX_FILE,
      purpose: 'outbox',
      keys: KeyRing.from(options.keys),
      parse: parseOutboxEvent,
      snapshot: snapshotOutbox,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const outbox = new Outbox(options, journal, events, torn);
    if (torn !== null) outbox.logger.warn('outbox: a write cut short by a crash was found on open', { ...torn });
    return outbox;
  }

  /** Why sending is paused (an authentication failure), or null. */
  get paused(): string | null {
    return this.pause.authPause();
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
   * a resume or to retry entries deferred by transient errors. A deferral ends the pass (the provider is
   * failing: the rest stay pending, untried), and the sends deferred least often go first, so one send
   * the provider keeps failing neither multiplies the calls of a pass nor starves the others.
   */
  async recover(provider: SendReceipts): Promise<RecoveryReport> {
    const report: RecoveryReport = { reconciled: [], sent: [], pending: [], held: [] };
    const pending = [...this.entries.values()].filter((candidate) => candidate.status === 'pending');
    pending.sort((a, b) => (this.deferrals.get(a.idempotencyKey) ?? 0) - (this.deferrals.get(b.idempotencyKey) ?? 0));
    let providerFailing = false;
    for (const entry of pending) {
      if (providerFailing) {
        report.pending.push(entry.idempotencyKey);
        continue;
      }
      const outcome = await this.dispatchOnce(entry.idempotencyKey, provider, true);
      if (outcome.status === 'deferred') providerFailing = true;
      if (outcome.status === 'sent') (outcome.reconciled ? report.reconciled : report.sent).push(outcome.idempotencyKey);
      else if (outcome.status === 'paused' || outcome.status === 'deferred') report.pending.push(outcome.idempotencyKey);
      else report.held.push(outcome.idempotencyKey);
    }
    if (!providerFailing) await this.reconcileWithdrawn(provider, report);
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
   * A send the revive withdrew may have reached the provider before the kill (a SIGKILL while the provider
   * was taking it, an answer lost to a timeout): the revive withdraws while the agent is killed and not
   * connected, so it cannot ask. Asked here, once per process and read-only: one the provider has is
   * recorded as sent, so that neither the audit trail nor the approval asking about it (a rejection
   * discards only what is still withdrawn) claims that a message which went out was never sent.
   */
  private async reconcileWithdrawn(provider: SendReceipts, report: RecoveryReport): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      const key = entry.idempotencyKey;
      if (entry.status !== 'withdrawn' || !this.reconcileFirst.has(key)) continue;
      let receipt: SendReceipt | null;
      try {
        receipt = await provider.findSentByIdempotencyKey(key);
      } catch (error) {
        if (isFleetError(error) && error.code === 'killed') throw error;
        this.logger.warn('outbox: could not ask the provider about a withdrawn send; asked again at the next recovery', { idempotencyKey: key, error });
        return;
      }
      const current = this.entries.get(key);
      if (current?.status !== 'withdrawn') continue;
      if (receipt === null) {
        this.reconcileFirst.delete(key);
        continue;
      }
      this.logger.warn('outbox: a withdrawn send had reached the provider before the kill; recorded as sent', { idempotencyKey: key });
      await this.recordSent(current, receipt, true);
      report.reconciled.push(key);
    }
  }

  /**
   * Records the intent to send (audit record, then outbox entry, both durable) and returns the entry.
   * Repeating a request with the same idempotency key returns the existing entry; the same key with
   * different content is a conflict.
   */
  async enqueue(request: SendRequest): Promise<OutboxEntry> {
    this.assertRecovered();
    const key = request.idempotencyKey ?? `af-${randomUUID()}`;
    // The automatic-send marks follow from who let the send go (auto-submitted.ts), not from the request.
    const { message, contentHash } = buildOutboundMessage(request.message, key, request.approvalStatus);
    const existing = this.entries.get(key);
    if (existing?.status === 'withdrawn') {
      throw new FleetError('conflict', `outbox entry ${key} was withdrawn at a revive; discard it before sending what a human approved`);
    }
    if (existing !== undefined && existing.status !== 'discarded') {
      if (existing.contentHash !== contentHash) {
        throw new FleetError('conflict', `idempotency key ${key} was already used for a different message`);
      }
      return structuredClone(existing);
    }
    const recipients = recipientsOf(message);
    await this.audit.append(
      sendRecord({
        action: 'email_send',
        authority: request,
        recipients,
        parameters: { ...request.auditParameters, idempotency_key: key, subject: message.subject, recipients: recipients.length },
        result: 'intended',
        contentHash,
      }),
    );
    const { actor, approvalStatus, approvedBy } = request;
    if (existing !== undefined) this.reconcileFirst.add(key);
    await this.record({ type: 'intent', at: this.now().toISOString(), key, message, contentHash, actor, approvalStatus, approvedBy });
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
    if (this.paused === null) return;
    await this.audit.append(outboxResumed(by));
    await this.pause.lift(by);
  }

  /** Returns a quarantined or reviewed entry to pending after a human looked at it. */
  async release(idempotencyKey: string, by: string): Promise<void> {
    const entry = this.entries.get(idempotencyKey);
    if (entry === undefined) throw new FleetError('not_found', `no outbox entry ${idempotencyKey}`);
    if (entry.status !== 'quarantined' && entry.status !== 'review') {
      throw new FleetError('conflict', `outbox entry ${idempotencyKey} is ${entry.status}, not held`);
    }
    await this.audit.append(sendReleased({ by, idempotencyKey, was: entry.status, contentHash: entry.contentHash }));
    await this.record({ type: 'released', at: this.now().toISOString(), key: idempotencyKey, by });
  }

  /**
   * Takes a pending send out of the outbox (a revive: it was waiting when the kill switch was pulled): it
   * is never sent as it stands; a human approves it again or it is discarded. Waits for a dispatch of it
   * still running (the kill stops it at its next provider call); one that sent is kept.
   */
  async withdraw(idempotencyKey: string, by: string): Promise<void> {
    await this.inFlight.get(idempotencyKey)?.catch(() => undefined);
    const entry = this.entries.get(idempotencyKey);
    if (entry === undefined) throw new FleetError('not_found', `no outbox entry ${idempotencyKey}`);
    if (entry.status !== 'pending') return;
    await this.audit.append(sendWithdrawn({ by, idempotencyKey, contentHash: entry.contentHash }));
    await this.record({ type: 'withdrawn', at: this.now().toISOString(), key: idempotencyKey, by });
  }

  /**
   * Gives up a withdrawn send for good: a human rejected it, its approval expired, or a human approved a
   * message that replaces it (sent then under the same key, after asking the provider about this one).
   */
  async discard(idempotencyKey: string, by: string, why: 'rejected' | 'expired' | 'replaced'): Promise<void> {
    const entry = this.entries.get(idempotencyKey);
    if (entry === undefined) throw new FleetError('not_found', `no outbox entry ${idempotencyKey}`);
    if (entry.status !== 'withdrawn') throw new FleetError('conflict', `outbox entry ${idempotencyKey} is ${entry.status}, not withdrawn`);
    await this.audit.append(sendDiscarded({ by, idempotencyKey, contentHash: entry.contentHash, why }));
    await this.record({ type: 'discarded', at: this.now().toISOString(), key: idempotencyKey, by });
  }

  close(): Promise<void> {
    return this.journal.close();
  }

  private assertRecovered(): void {
    if (!this.recovered) throw new FleetError('conflict', 'outbox: recover(provider) must run before any new send');
  }

  /** Appends an event durably, then applies it to the entries. */
  private async record(event: OutboxEvent): Promise<void> {
    await this.journal.append(event);
    const changed = reduceOutbox(this.entries, event);
    if (changed !== null) this.entries.set(changed.idempotencyKey, changed);
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
    if (entry.status === 'withdrawn' || entry.status === 'discarded') {
      return { status: entry.status, idempotencyKey: key, reason: `${entry.status} at a revive of the kill switch` };
    }
    const askFirst = lookUpFirst || this.reconcileFirst.has(key);
    this.reconcileFirst.add(key);
    let result: Awaited<ReturnType<typeof attemptSend>>;
    try {
      result = await attemptSend(key, markedMessage(entry), provider, askFirst, {
        ...this.attempt,
        onError: (lastError) => {
          const current = this.entries.get(key);
          if (current !== undefined) this.entries.set(key, { ...current, lastError });
        },
      });
    } catch (error) {
      if (isFleetError(error) && error.code === 'killed') await this.auditStoppedByKill(entry, error.message);
      throw error;
    }
    switch (result.kind) {
      case 'sent':
        return this.recordSent(entry, result.receipt, result.reconciled);
      case 'paused':
        return { status: 'paused', idempotencyKey: key, reason: result.reason };
      case 'deferred': {
        const deferrals = (this.deferrals.get(key) ?? 0) + 1;
        // Transient errors without end are not transient: a human decides whether it still should go.
        if (deferrals >= this.maxDeferrals) return this.hold(entry, 'review', 'transient', result.error);
        this.deferrals.set(key, deferrals);
        await this.auditOutcome(entry, 'email_send', 'failure', { error_category: 'transient', deferred: true });
        return { status: 'deferred', idempotencyKey: key, reason: result.error.message };
      }
      case 'auth':
        await this.pauseSending(entry, result.error.message);
        return { status: 'paused', idempotencyKey: key, reason: result.error.message };
      case 'held':
        return this.hold(entry, result.status, result.category, result.error);
    }
  }

  private async hold(entry: OutboxEntry, status: 'quarantined' | 'review', category: ProviderErrorCategory, error: SendError): Promise<SendOutcome> {
    const key = entry.idempotencyKey;
    await this.auditOutcome(entry, status === 'quarantined' ? 'quarantine' : 'review_queued', 'failure', { error_category: category, error_code: error.code });
    await this.record({ type: 'held', at: this.now().toISOString(), key, status, category, error });
    this.deferrals.delete(key);
    this.logger.warn(`outbox: send held for a human (${status})`, { idempotencyKey: key, category, code: error.code });
    return { status, idempotencyKey: key, reason: error.message };
  }

  private async recordSent(entry: OutboxEntry, receipt: SendReceipt, reconciled: boolean): Promise<SendOutcome> {
    // Audit first: if we crash before the journal, recovery finds the send again and records it again,
    // which is better than a send missing from the audit log.
    await this.auditOutcome(entry, 'email_send', 'success', { provider_message_id: receipt.providerMessageId, reconciled });
    await this.record({ type: 'sent', at: this.now().toISOString(), key: entry.idempotencyKey, receipt, reconciled });
    this.reconcileFirst.delete(entry.idempotencyKey);
    this.deferrals.delete(entry.idempotencyKey);
    return { status: 'sent', idempotencyKey: entry.idempotencyKey, receipt, reconciled };
  }

  /**
   * The kill stopped this send before the provider took it (the write is refused at the call): the intent
   * audited before it gets its outcome, so the trail never leaves a send the kill stopped looking as if
   * it may have gone. It stays pending (a revive withdraws it for a human); the kill propagates.
   */
  private async auditStoppedByKill(entry: OutboxEntry, reason: string): Promise<void> {
    await this.auditOutcome(entry, 'email_send', 'failure', { error_category: 'killed', stopped_by: 'kill_switch', error: reason.slice(0, 300) }).catch((error: unknown) => {
      this.logger.error('outbox: the kill of a send could not be audited', { idempotencyKey: entry.idempotencyKey, error });
    });
  }

  /** The provider refused our credentials: audited, then the agent's one pause flag is raised. */
  private async pauseSending(entry: OutboxEntry, reason: string): Promise<void> {
    if (this.paused !== null) return;
    await this.auditOutcome(entry, 'auth_failure', 'failure', { error_category: 'auth' });
    await this.audit.append(paused('outbox', { reason: 'provider authentication failed' }));
    await this.pause.raise(reason);
    this.logger.error('outbox: provider authentication failed; sending paused until resumed', { idempotencyKey: entry.idempotencyKey });
  }

  private async auditOutcome(
    entry: OutboxEntry,
    action: 'email_send' | 'quarantine' | 'review_queued' | 'auth_failure',
    result: 'success' | 'failure',
    parameters: { [key: string]: JsonValue },
  ): Promise<void> {
    await this.audit.append(
      sendRecord({
        action,
        authority: entry,
        recipients: recipientsOf(entry.message),
        parameters: { idempotency_key: entry.idempotencyKey, ...parameters },
        result,
        contentHash: entry.contentHash,
      }),
    );
  }
}

/**
 * The entry's message with the automatic-send marks its approval status calls for (auto-submitted.ts):
 * what `enqueue` stored already, and also for an entry a journal written before the marks holds.
 */
function markedMessage(entry: OutboxEntry): OutboundMessage {
  return { ...entry.message, headers: withAutoSubmitted(entry.message.headers, autoSubmittedFor(entry.approvalStatus)) };
}
