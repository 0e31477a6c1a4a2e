import { AUTO_RESPONSE_SUPPRESS_VALUE, autoSubmittedOf, type AutoSubmitted } from '../../domain/auto-reply/auto-submitted.ts';
import { IDEMPOTENCY_HEADER } from '../../domain/idempotency-key.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Draft, DraftInput, MailProvider } from '../../ports/mail-provider.ts';
import { type OutboundMessage, type SendReceipt, type SendReceipts } from '../../ports/send-receipts.ts';

/** The draft already in the mailbox for an idempotency key, as the approval or the message's progress holds it. */
export interface KnownDraft {
  /** Provider id of the draft. */
  draftId: string;
  /** Provider id of the message the draft answers (a reply's), so a replacement threads the same way. */
  inReplyTo: string | null;
}

/**
 * The outbox's provider side over a MailProvider, whose only send path is "send a draft". A reply the
 * loop drafted is sent from its own draft in the mailbox (so it threads) only when the draft, read back
 * just before the send, holds exactly the message the outbox holds (the approved or edited arguments):
 * the same To, Cc, subject and text, and no Bcc, attachment or HTML part nobody approved. Anyone with
 * access to the mailbox can change a draft in Gmail or Outlook between approval and send, and an edit
 * in place cannot be trusted to undo everything (a Graph PATCH leaves an added Bcc or attachment), so a
 * draft that differs is deleted and a fresh one is made from the approved message, with the same
 * idempotency key and threading. Anything else (alerts, summaries) gets a fresh draft carrying the key.
 *
 * The draft must also carry the automatic-send marks the message carries (auto-submitted.ts) and no
 * others: a reply is drafted before the gate decides, so the draft of a reply the gate sends on its own
 * is made anew marked, and one a human approved goes out unmarked, whatever its draft said.
 *
 * Exactly-once rests on the key, not on the draft: every draft carries it, and the outbox asks
 * `findSentByIdempotencyKey` before any retry, whichever draft went out.
 */
export class MailSendReceipts implements SendReceipts {
  private readonly provider: MailProvider;
  private readonly draftFor: (idempotencyKey: string) => KnownDraft | null;
  private readonly beforeWrite: (what: string) => void;
  private readonly now: () => Date;
  /**
   * Drafts this process made for a key and has not sent yet (a replacement, or a fresh draft whose send
   * failed), by key: a retry sends them rather than making another. Bounded; the stores that `draftFor`
   * reads still name the draft made first.
   */
  private readonly made = new Map<string, string>();

  /**
   * `draftFor`: the draft already created for a key, if any. `beforeWrite`: throws to stop a provider
   * write (the kill switch).
   */
  constructor(options: {
    provider: MailProvider;
    draftFor: (idempotencyKey: string) => KnownDraft | null;
    beforeWrite: (what: string) => void;
    now?: () => Date;
  }) {
    this.provider = options.provider;
    this.draftFor = options.draftFor;
    this.beforeWrite = options.beforeWrite;
    this.now = options.now ?? (() => new Date());
  }

  async findSentByIdempotencyKey(key: string): Promise<SendReceipt | null> {
    const found = await this.provider.findSentByIdempotencyKey(key);
    if (found === null) return null;
    return { providerMessageId: found.id ?? `key:${key}`, sentAt: this.now().toISOString() };
  }

  async send(message: OutboundMessage): Promise<SendReceipt> {
    const key = message.headers[IDEMPOTENCY_HEADER];
    if (key === undefined) throw new FleetError('invalid_input', 'outbound message without an idempotency key');
    if (message.bcc.length > 0) throw new FleetError('invalid_input', 'bcc is not supported by the mail provider port');
    this.beforeWrite('send');
    const draft = await this.draftToSend(key, message);
    this.beforeWrite('send');
    const sent = await this.provider.sendDraft(draft.id);
    this.made.delete(key);
    return { providerMessageId: sent.id ?? draft.messageId, sentAt: this.now().toISOString() };
  }

  private async draftToSend(key: string, message: OutboundMessage): Promise<Draft> {
    const known = this.draftFor(key);
    const existing = this.made.get(key) ?? known?.draftId ?? null;
    if (existing !== null) {
      const draft = await this.readDraft(existing);
      if (draft !== null && draft.idempotencyKey === key) {
        if (sameContent(draft, message) && sameMarks(draft, autoSubmittedOf(message.headers))) return draft;
        // Something nobody approved is in the draft, or it is marked otherwise than this send must be:
        // it goes, and the approved message is drafted anew.
        this.beforeWrite('send');
        await this.deleteDraft(draft.id);
        this.made.delete(key);
      }
    }
    return this.createDraft(key, message, known?.inReplyTo ?? null);
  }

  /** The draft as the mailbox holds it now; null when it was deleted there meanwhile. */
  private async readDraft(draftId: string): Promise<Draft | null> {
    try {
      return await this.provider.getDraft(draftId);
    } catch (error) {
      if (error instanceof FleetError && error.code === 'not_found') return null;
      throw error;
    }
  }

  private async deleteDraft(draftId: string): Promise<void> {
    try {
      await this.provider.deleteDraft(draftId);
    } catch (error) {
      if (!(error instanceof FleetError && error.code === 'not_found')) throw error;
    }
  }

  /**
   * A new draft of exactly `message`, threaded on `inReplyTo` when it answers one (unthreaded when that
   * message is gone from the mailbox: the reply still goes, as it did before it was threaded).
   */
  private async createDraft(key: string, message: OutboundMessage, inReplyTo: string | null): Promise<Draft> {
    const input: DraftInput = {
      to: message.to,
      cc: message.cc,
      subject: message.subject,
      body: message.text,
      ...(message.html === null ? {} : { html: message.html }),
      ...(message.threadId === null ? {} : { threadId: message.threadId }),
      idempotencyKey: key,
      autoSubmitted: autoSubmittedOf(message.headers),
    };
    let created: Draft;
    try {
      created = await this.provider.createDraft(inReplyTo === null ? input : { ...input, inReplyTo });
    } catch (error) {
      if (inReplyTo === null || !(error instanceof FleetError && error.code === 'not_found')) throw error;
      created = await this.provider.createDraft(input);
    }
    if (this.made.size >= 1000) this.made.delete(this.made.keys().next().value as string);
    this.made.set(key, created.id);
    // A reply draft gets a reply subject ("Re: ..."); the approved one may have been edited to another.
    if (created.subject === message.subject) return created;
    return this.provider.updateDraft(created.id, { subject: message.subject });
  }
}

/**
 * True when the draft holds exactly the message: the same To and Cc (in order, case aside), subject and
 * text, the same HTML part (or none), and no Bcc or attachment beyond the message's. Line endings and
 * trailing white space aside, which the providers' MIME round trips change. Pure.
 */
export function sameContent(draft: Draft, message: OutboundMessage): boolean {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((value, index) => value.toLowerCase() === b[index]?.toLowerCase());
  const text = (value: string) => value.replace(/\r\n?/g, '\n').trimEnd();
  return (
    same(draft.to, message.to) &&
    same(draft.cc, message.cc) &&
    same(draft.bcc, message.bcc) &&
    draft.attachments === 0 &&
    draft.subject === message.subject &&
    text(draft.body) === text(message.text) &&
    (draft.html === null ? message.html === null : message.html !== null && text(draft.html) === text(message.html))
  );
}

/**
 * True when the draft carries the automatic-send marks of `marking` and no other: none on a human's
 * send; on an automatic one X-Auto-Response-Suppress as the agent writes it, and Auto-Submitted with
 * the marking or, where the provider cannot carry that header (Outlook), none. Pure.
 */
export function sameMarks(draft: Draft, marking: AutoSubmitted | null): boolean {
  const autoSubmitted = draft.autoSubmitted?.trim().toLowerCase() ?? null;
  const suppress = draft.autoResponseSuppress?.trim() ?? null;
  if (marking === null) return autoSubmitted === null && suppress === null;
  return suppress === AUTO_RESPONSE_SUPPRESS_VALUE && (autoSubmitted === null || autoSubmitted === marking);
}
