import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { gateRefused, type SendAuthority } from '../../domain/audit-events.ts';
import { crmLastContactUpdated, crmNoteOwed, crmNoteWritten, crmTarget } from '../../domain/audit-events-crm.ts';
import type { AuditRecord } from '../../domain/audit-record.ts';
import { crmNoteSummary } from '../../domain/crm-note-summary.ts';
import { CRM_ENTITIES, type CrmEntity, type CrmPersonRef } from '../../ports/crm-provider.ts';
import { ProviderAuthError } from '../../ports/mail-provider.ts';
import type { OutboxEntry } from '../outbox/outbox.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import type { CrmPauseState, CrmWork } from './crm-work.ts';
import { errorSummary } from './error-summary.ts';

/** A note owed for a sent email: to whom (the record once known, else the address), after which send, under whose authority. */
interface OwedNote {
  noteKey: string;
  sendKey: string;
  recipient: string;
  person: CrmPersonRef | null;
  emailType: string | null;
  authority: SendAuthority;
}

/** A sent email the CRM should hear of: its outbox key, recipients and type, and who let it go. */
export interface SentForCrm {
  sendKey: string;
  recipients: readonly string[];
  emailType: string | null;
  authority: SendAuthority;
}

/** The CRM note of a send: one per send, whatever retries and restarts happen (the CRM keeps the key). */
export function crmNoteKey(sendKey: string): string {
  return `${sendKey}:crm`;
}

/**
 * A note in the client's CRM for every email the agent sends to a person the CRM knows, exactly once.
 * The owed note is recorded in the audit log after the send's outbox intent and before the send:
 * `crm_write` intended with the record (or `pending` with the address while the CRM cannot be asked).
 * It is written once the outbox holds the email as sent (at once, or in a later round after a deferral,
 * a restart or a CRM pause), with the key `<sendKey>:crm` that the CRM adapter turns into one note
 * whatever the retries; then the person's last-contact date follows the note. The audit log is the
 * ledger: on start, notes owed and never written are owed again.
 */
export class CrmNotes {
  private readonly work: CrmWork;
  private readonly context: RuntimeContext;
  private readonly owed = new Map<string, OwedNote>();
  private readonly settled = new Set<string>();
  private readonly inFlight = new Set<string>();
  private loading: Promise<void> | null = null;

  constructor(work: CrmWork, context: RuntimeContext) {
    this.work = work;
    this.context = context;
  }

  /** Notes owed and not yet written. */
  get pending(): number {
    return this.owed.size;
  }

  /** Reads the audit log once: notes owed and not written, and whether CRM work is paused. */
  load(): Promise<void> {
    this.loading ??= this.replay();
    return this.loading;
  }

  /** Records the note a send owes (call it after the send's outbox intent, before the send). */
  async owe(send: SentForCrm): Promise<void> {
    if (this.context.config.permissions['crm.write'] !== true) return;
    await this.load();
    const noteKey = crmNoteKey(send.sendKey);
    const recipient = send.recipients[0];
    if (recipient === undefined || this.context.outbox.get(send.sendKey) === undefined || this.owed.has(noteKey) || this.settled.has(noteKey)) return;
    const owed: OwedNote = { noteKey, sendKey: send.sendKey, recipient, person: null, emailType: send.emailType, authority: send.authority };
    if ((await this.resolve(owed)) === 'unavailable') {
      await this.context.audit.append(crmNoteOwed({ ...this.base(owed), recipient, result: 'pending' }));
      this.owed.set(noteKey, owed);
    }
  }

  /** Writes the owed notes whose email the outbox holds as sent (`only`: just those of these sends). */
  async settle(only?: readonly string[]): Promise<void> {
    await this.load();
    const keys = only === undefined ? [...this.owed.keys()] : only.map(crmNoteKey);
    for (const key of keys) {
      const owed = this.owed.get(key);
      if (owed === undefined || this.inFlight.has(key)) continue;
      if (this.work.idle) return;
      const entry = this.context.outbox.get(owed.sendKey);
      if (entry?.status !== 'sent') continue;
      this.inFlight.add(key);
      try {
        if (owed.person !== null || (await this.resolve(owed)) === 'resolved') await this.write(owed, entry);
      } finally {
        this.inFlight.delete(key);
      }
    }
  }

  /**
   * Finds the recipient's record and clears the note with the gate (`crm.write`); a note allowed is owed
   * with its record (intent audited). `skipped` (audited when it was owed): no record, or the gate refused.
   */
  private async resolve(owed: OwedNote): Promise<'resolved' | 'skipped' | 'unavailable'> {
    const found = await this.work.resolve(owed.recipient);
    if (found.status === 'unavailable') return 'unavailable';
    if (found.status === 'none') {
      if (this.owed.has(owed.noteKey)) await this.context.audit.append(crmNoteOwed({ ...this.base(owed), recipient: owed.recipient, result: 'skipped' }));
      this.close(owed.noteKey);
      return 'skipped';
    }
    const person = { entity: found.person.entity, id: found.person.id };
    if (await this.refusedByGate(owed, person)) return 'skipped';
    const entry = this.context.outbox.get(owed.sendKey);
    if (entry === undefined) return 'skipped';
    owed.person = person;
    await this.context.audit.append(crmNoteWritten({ ...this.base(owed), person, noteText: noteOf(owed, entry).summary, result: 'intended' }));
    this.owed.set(owed.noteKey, owed);
    return 'resolved';
  }

  private async write(owed: OwedNote, entry: OutboxEntry): Promise<void> {
    const { context, work } = this;
    const person = owed.person;
    if (person === null) return;
    // Asked again at the write: the note may have been owed since before a restart, and the settings may
    // have taken crm.write away or turned dry run on meanwhile. The last-contact update below is the same
    // write to the same record, under the same answer.
    if (await this.refusedByGate(owed, person)) return;
    const text = noteOf(owed, entry);
    const base = { ...this.base(owed), person, noteText: text.summary };
    const note = await work.attempt('note', (provider) =>
      provider.appendInteractionNote({ person, direction: 'outbound', subject: text.subject, summary: text.summary, occurredAt: text.at, idempotencyKey: owed.noteKey }),
    );
    if (!note.ok) {
      // A record gone or a key clash will not heal: recorded as final, never owed again.
      const final = note.error instanceof FleetError && !note.error.retryable && !(note.error instanceof ProviderAuthError);
      await context.audit.append(crmNoteWritten({ ...base, result: 'failure', details: { ...base.details, final, error: errorSummary(note.error) } }));
      if (final) this.close(owed.noteKey);
      return;
    }
    await context.audit.append(crmNoteWritten({ ...base, result: 'success', noteId: note.value.id, created: note.value.created }));
    this.close(owed.noteKey);
    // The note first: where the CRM derives the date from notes (a Candidate), the note is what moves it.
    const contact = await work.attempt('last contact', (provider) => provider.updateLastContact(person, text.at));
    await context.audit.append(
      crmLastContactUpdated({
        provider: work.name,
        person,
        at: text.at,
        written: contact.ok ? contact.value.written : null,
        result: contact.ok ? 'success' : 'failure',
        authority: owed.authority,
      }),
    );
  }

  /** True (audited, the note closed) when the gate refuses the note's write to `person` now. */
  private async refusedByGate(owed: OwedNote, person: CrmPersonRef): Promise<boolean> {
    const allowed = this.work.allowed({ kind: 'crm.write', operation: 'update', recordType: person.entity, recordId: person.id, fields: { note: owed.noteKey } });
    if (allowed.ok) return false;
    const parameters = { ...this.base(owed).details, provider: this.work.name, operation: 'append_note', idempotency_key: owed.noteKey, reasons: [...allowed.reasons] };
    await this.context.audit.append(gateRefused({ action: 'crm_write', dryRun: allowed.dryRun, target: crmTarget(person), parameters }));
    this.close(owed.noteKey);
    return true;
  }

  private base(owed: OwedNote) {
    return {
      provider: this.work.name,
      idempotencyKey: owed.noteKey,
      authority: owed.authority,
      details: { send_key: owed.sendKey, email_type: owed.emailType, recipient: owed.recipient },
    };
  }

  private close(noteKey: string): void {
    this.owed.delete(noteKey);
    this.settled.add(noteKey);
  }

  private async replay(): Promise<void> {
    let pause: CrmPauseState | null = null;
    for await (const record of this.context.audit.records()) {
      if (record.target === 'crm' && (record.action_type === 'pause' || record.action_type === 'resume')) {
        pause = record.action_type === 'resume' ? null : pauseOf(record);
        continue;
      }
      const refused = record.action_type === 'policy_denied';
      if ((record.action_type !== 'crm_write' && !refused) || record.parameters['operation'] !== 'append_note') continue;
      const key = record.parameters['idempotency_key'];
      if (typeof key !== 'string' || this.settled.has(key)) continue;
      const closed = refused || record.result === 'success' || record.result === 'skipped' || (record.result === 'failure' && record.parameters['final'] === true);
      if (closed) this.close(key);
      else if (record.result === 'intended' || (record.result === 'pending' && !this.owed.has(key))) {
        const owed = owedOf(record, key);
        if (owed !== null) this.owed.set(key, owed);
      }
    }
    this.work.restorePause(pause);
  }
}

/** The note's subject, summary and date, from the sent email's outbox entry (the same on every retry). */
function noteOf(owed: OwedNote, entry: OutboxEntry): { subject: string; summary: string; at: Date } {
  const at = new Date(entry.createdAt);
  const subject = entry.message.subject;
  return { subject, at, summary: crmNoteSummary({ emailType: owed.emailType, subject, sentAt: at, contentHash: entry.contentHash }) };
}

/** An owed note from its audit record: `intended` names the record, `pending` only the recipient. */
function owedOf(record: AuditRecord, noteKey: string): OwedNote | null {
  const { send_key: sendKey, email_type: emailType, recipient } = record.parameters;
  if (typeof sendKey !== 'string' || typeof recipient !== 'string') return null;
  let person: CrmPersonRef | null = null;
  if (record.result === 'intended') {
    const [entity, id] = (record.target ?? '').split('/');
    if (!(CRM_ENTITIES as readonly string[]).includes(entity ?? '') || id === undefined || id === '') return null;
    person = { entity: entity as CrmEntity, id };
  }
  return {
    noteKey,
    sendKey,
    recipient,
    person,
    emailType: typeof emailType === 'string' ? emailType : null,
    authority: { actor: record.actor, approvalStatus: record.approval_status, approvedBy: record.approved_by },
  };
}

function pauseOf(record: AuditRecord): CrmPauseState {
  const { reason, credential } = record.parameters;
  return { since: record.timestamp, reason: typeof reason === 'string' ? reason : 'auth', credential: typeof credential === 'string' ? credential : null };
}
