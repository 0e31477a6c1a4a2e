import { IDEMPOTENCY_HEADER } from '../../domain/idempotency-key.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Draft, MailProvider } from '../../ports/mail-provider.ts';
import { type OutboundMessage, type SendReceipt, type SendReceipts } from '../../ports/send-receipts.ts';

/**
 * The outbox's provider side over a MailProvider, whose only send path is "send a draft". A reply the
 * loop drafted is sent from its own draft in the mailbox (so it threads), after the draft is brought in
 * line with exactly the message the outbox holds (the approved or edited arguments); anything else
 * (alerts, summaries) gets a fresh draft carrying the idempotency key.
 */
export class MailSendReceipts implements SendReceipts {
  private readonly provider: MailProvider;
  private readonly draftFor: (idempotencyKey: string) => string | null;
  private readonly beforeWrite: (what: string) => void;
  private readonly now: () => Date;
  /** Drafts this process just created, by key: sending them needs no read-back. */
  private readonly fresh = new Map<string, Draft>();

  /**
   * `draftFor`: the draft already created for a key, if any. `beforeWrite`: throws to stop a provider
   * write (the kill switch).
   */
  constructor(options: {
    provider: MailProvider;
    draftFor: (idempotencyKey: string) => string | null;
    beforeWrite: (what: string) => void;
    now?: () => Date;
  }) {
    this.provider = options.provider;
    this.draftFor = options.draftFor;
    this.beforeWrite = options.beforeWrite;
    this.now = options.now ?? (() => new Date());
  }

  /** Remembers a draft the agent just created, so its send skips reading it back (bounded). */
  remember(draft: Draft): void {
    if (draft.idempotencyKey === null) return;
    if (this.fresh.size >= 1000) this.fresh.delete(this.fresh.keys().next().value as string);
    this.fresh.set(draft.idempotencyKey, draft);
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
    return { providerMessageId: sent.id ?? draft.messageId, sentAt: this.now().toISOString() };
  }

  private async draftToSend(key: string, message: OutboundMessage): Promise<Draft> {
    const remembered = this.fresh.get(key);
    this.fresh.delete(key);
    if (remembered !== undefined && sameContent(remembered, message)) return remembered;
    const existing = this.draftFor(key);
    if (existing !== null) {
      let draft: Draft | null;
      try {
        draft = await this.provider.getDraft(existing);
      } catch (error) {
        if (!(error instanceof FleetError && error.code === 'not_found')) throw error;
        draft = null; // deleted in the mailbox meanwhile: send a fresh one
      }
      if (draft !== null && draft.idempotencyKey === key) {
        if (sameContent(draft, message)) return draft;
        return this.provider.updateDraft(draft.id, { to: message.to, cc: message.cc, subject: message.subject, body: message.text });
      }
    }
    return this.provider.createDraft({
      to: message.to,
      cc: message.cc,
      subject: message.subject,
      body: message.text,
      ...(message.html === null ? {} : { html: message.html }),
      ...(message.threadId === null ? {} : { threadId: message.threadId }),
      idempotencyKey: key,
    });
  }
}

function sameContent(draft: Draft, message: OutboundMessage): boolean {
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((value, index) => value.toLowerCase() === b[index]?.toLowerCase());
  return same(draft.to, message.to) && same(draft.cc, message.cc) && draft.subject === message.subject && draft.body.trimEnd() === message.text.trimEnd();
}
