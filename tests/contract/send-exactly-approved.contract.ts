import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { ApprovalStatus } from '../../agent-image/src/domain/audit-record.ts';
import { AUTO_RESPONSE_SUPPRESS_VALUE, autoSubmittedOf, type AutoSubmitted } from '../../agent-image/src/domain/auto-reply/auto-submitted.ts';
import { IDEMPOTENCY_HEADER } from '../../agent-image/src/domain/idempotency-key.ts';
import type { Draft, MailMessage, MailProvider } from '../../agent-image/src/ports/mail-provider.ts';
import type { OutboundMessage } from '../../agent-image/src/ports/send-receipts.ts';
import { buildOutboundMessage } from '../../agent-image/src/services/outbox/outbound-message.ts';
import { MailSendReceipts } from '../../agent-image/src/services/runtime/mail-send-receipts.ts';
import type { MailHarness } from './mail-provider.contract.ts';

/**
 * The send side over each adapter and its emulator: what reaches the recipients is exactly the approved
 * message, whatever was done to its draft in the mailbox between approval and send, and it goes once;
 * marked as automatic (auto-submitted.ts) exactly when no human approved it. `carriesAutoSubmitted`:
 * whether the provider can send Auto-Submitted at all (Outlook cannot).
 */
export function sendExactlyApprovedContract(adapter: string, createHarness: () => Promise<MailHarness>, provider: { carriesAutoSubmitted: boolean }): void {
  describe(`sending exactly what was approved: ${adapter}`, () => {
    let h: MailHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    /**
     * A reply drafted as the mail loop drafts it (unmarked: the gate has not decided yet, unless
     * `draftMarked`), and the message the admin approved from it.
     */
    async function approvedReply(key: string, draftMarked: AutoSubmitted | null = null): Promise<{ original: MailMessage; draft: Draft; approved: OutboundMessage }> {
      const { id } = await h.seedInbound({ from: 'Dana Client <dana@customer.example>', subject: 'Meeting on Tuesday?', text: 'Does Tuesday work?' });
      const original = await h.provider.getMessage(id);
      const draft = await h.provider.createDraft({
        to: ['dana@customer.example'],
        subject: original.subject,
        body: 'Tuesday works for me.',
        inReplyTo: id,
        idempotencyKey: key,
        ...(draftMarked === null ? {} : { autoSubmitted: draftMarked }),
      });
      const approved: OutboundMessage = {
        to: ['dana@customer.example'],
        cc: [],
        bcc: [],
        subject: draft.subject,
        text: 'Tuesday works for me.',
        html: null,
        inReplyTo: null,
        threadId: null,
        headers: { [IDEMPOTENCY_HEADER]: key },
      };
      return { original, draft, approved };
    }

    const receiptsFor = (provider: MailProvider, key: string, draft: Draft, original: MailMessage) =>
      new MailSendReceipts({
        provider,
        draftFor: (asked) => (asked === key ? { draftId: draft.id, inReplyTo: original.id } : null),
        beforeWrite: () => {},
      });

    /** The one message the emulator sent: the approved content, threaded on the original, with the key. */
    function assertSentExactly(original: MailMessage, approved: OutboundMessage, options: { sameThread?: boolean } = {}): void {
      const sent = h.sent();
      assert.equal(sent.length, 1);
      const [message] = sent;
      assert.deepEqual(message?.to, approved.to);
      assert.deepEqual(message?.bcc, []);
      assert.deepEqual(message?.attachments, []);
      assert.equal(message?.html, null);
      assert.equal(message?.subject, approved.subject);
      assert.equal(message?.body.replace(/\r\n/g, '\n').trimEnd(), approved.text);
      assert.equal(message?.inReplyTo, original.messageId);
      if (options.sameThread !== false) assert.equal(message?.threadId, original.threadId);
      assert.equal(message?.idempotencyKey, approved.headers[IDEMPOTENCY_HEADER]);
      assertMarkedAs(autoSubmittedOf(approved.headers));
      assert.equal(h.draftCount(), 0, 'the edited draft is gone and no other draft is left');
    }

    /** The one sent message carries the marks of `marking` that the provider can carry, and no other. */
    function assertMarkedAs(marking: AutoSubmitted | null): void {
      const [message] = h.sent();
      assert.equal(message?.autoResponseSuppress, marking === null ? null : AUTO_RESPONSE_SUPPRESS_VALUE, 'X-Auto-Response-Suppress');
      assert.equal(message?.autoSubmitted, marking === null || !provider.carriesAutoSubmitted ? null : marking, 'Auto-Submitted');
    }

    /** The approved message as the outbox builds it for a send let go by `status`. */
    const decided = (approved: OutboundMessage, status: ApprovalStatus): OutboundMessage =>
      buildOutboundMessage(approved, approved.headers[IDEMPOTENCY_HEADER] ?? '', status).message;

    /** `provider` with its createDraft calls counted. */
    function countingDrafts(provider: MailProvider): { provider: MailProvider; created: () => number } {
      let created = 0;
      const counted = new Proxy(provider, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property);
          if (property === 'createDraft') {
            return async (...args: Parameters<MailProvider['createDraft']>) => {
              created++;
              return target.createDraft(...args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return { provider: counted, created: () => created };
    }

    it('an untouched approved draft is the one sent', async () => {
      const { original, draft, approved } = await approvedReply('exact-0');
      const receipt = await receiptsFor(h.provider, 'exact-0', draft, original).send(approved);
      assert.equal(receipt.providerMessageId, draft.messageId);
      assertSentExactly(original, approved);
    });

    it('a Bcc added to the approved draft in the mailbox is not sent', async () => {
      const { original, draft, approved } = await approvedReply('exact-bcc');
      await h.editDraftInMailbox.addBcc(draft.id, 'eve@attacker.example');
      await receiptsFor(h.provider, 'exact-bcc', draft, original).send(approved);
      assertSentExactly(original, approved);
    });

    it('an attachment added to the approved draft in the mailbox is not sent', async () => {
      const { original, draft, approved } = await approvedReply('exact-attachment');
      await h.editDraftInMailbox.attach(draft.id, { name: 'invoice.pdf', content: Buffer.from('%PDF-1.4 new bank details') });
      await receiptsFor(h.provider, 'exact-attachment', draft, original).send(approved);
      assertSentExactly(original, approved);
    });

    it('an HTML part put into the approved draft in the mailbox is not sent', async () => {
      const { original, draft, approved } = await approvedReply('exact-html');
      // The text it renders is the approved text; the tracking image is not.
      await h.editDraftInMailbox.setHtml(draft.id, '<p>Tuesday works for me.<img src="https://track.attacker.example/p.gif" alt=""></p>');
      await receiptsFor(h.provider, 'exact-html', draft, original).send(approved);
      assertSentExactly(original, approved);
    });

    it('the replacement carries an approved subject that is not a reply subject', async () => {
      const { original, draft, approved } = await approvedReply('exact-subject');
      const edited = { ...approved, subject: 'Tuesday at 10' };
      await h.editDraftInMailbox.addBcc(draft.id, 'eve@attacker.example');
      await receiptsFor(h.provider, 'exact-subject', draft, original).send(edited);
      // Gmail keeps a message in a thread only while its subject matches; In-Reply-To still names the original.
      assertSentExactly(original, edited, { sameThread: false });
    });

    it('a send that failed after the draft was replaced is sent once, from the replacement', async () => {
      const { original, draft, approved } = await approvedReply('exact-retry');
      await h.editDraftInMailbox.addBcc(draft.id, 'eve@attacker.example');
      let failNext = true;
      const provider = h.provider;
      const flaky = new Proxy(provider, {
        get(target, property) {
          if (property === 'sendDraft' && failNext) {
            return async () => {
              failNext = false;
              throw new FleetError('unavailable', 'connection reset', { retryable: true });
            };
          }
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const receipts = receiptsFor(flaky, 'exact-retry', draft, original);
      await assert.rejects(receipts.send(approved), (error: unknown) => error instanceof FleetError && error.code === 'unavailable');
      // What the outbox does next: look the key up, then send again.
      assert.equal(await receipts.findSentByIdempotencyKey('exact-retry'), null);
      await receipts.send(approved);
      assert.ok((await receipts.findSentByIdempotencyKey('exact-retry')) !== null);
      assertSentExactly(original, approved);
    });

    it('a reply the gate sent on its own goes out marked automatic: its unmarked draft is made anew marked', async () => {
      const { original, draft, approved } = await approvedReply('exact-auto');
      const automatic = decided(approved, 'auto_approved');
      const receipt = await receiptsFor(h.provider, 'exact-auto', draft, original).send(automatic);
      assert.notEqual(receipt.providerMessageId, draft.messageId, 'the unmarked draft was not the one sent');
      assertSentExactly(original, automatic);
      assertMarkedAs('auto-replied');
    });

    it('an automatic reply whose approved subject is not a reply subject keeps its marks through the subject edit', async () => {
      const { original, draft, approved } = await approvedReply('exact-auto-subject');
      const automatic = decided({ ...approved, subject: 'Tuesday at 10' }, 'auto_approved');
      await receiptsFor(h.provider, 'exact-auto-subject', draft, original).send(automatic);
      assertSentExactly(original, automatic, { sameThread: false });
      assertMarkedAs('auto-replied');
    });

    it('a reply drafted marked and sent on its own is sent from its own draft, once, also after a failed send', async () => {
      const { original, draft, approved } = await approvedReply('exact-auto-kept', 'auto-replied');
      const automatic = decided(approved, 'auto_approved');
      const counted = countingDrafts(h.provider);
      let failNext = true;
      const flaky = new Proxy(counted.provider, {
        get(target, property) {
          if (property === 'sendDraft' && failNext) {
            return async () => {
              failNext = false;
              throw new FleetError('unavailable', 'connection reset', { retryable: true });
            };
          }
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const receipts = receiptsFor(flaky, 'exact-auto-kept', draft, original);
      await assert.rejects(receipts.send(automatic));
      const receipt = await receipts.send(automatic);
      assert.equal(counted.created(), 0, 'a draft that carries the marks it needs is not made again');
      assert.equal(receipt.providerMessageId, draft.messageId);
      assertSentExactly(original, automatic);
      assertMarkedAs('auto-replied');
    });

    it('a reply a human approved or edited goes out unmarked, even from a draft marked automatic', async () => {
      const { original, draft, approved } = await approvedReply('exact-human', 'auto-replied');
      // The request cannot mark it either: the marks follow who approved, not what the request wrote.
      const human = decided({ ...approved, headers: { ...approved.headers, 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' } }, 'edited');
      await receiptsFor(h.provider, 'exact-human', draft, original).send(human);
      assertSentExactly(original, human);
      assertMarkedAs(null);
    });

    it("the agent's own notice goes out auto-generated", async () => {
      const notice = decided({ to: ['boss@client.example'], cc: [], bcc: [], subject: 'Daily summary', text: 'Emails read: 3', html: null, inReplyTo: null, threadId: null, headers: { [IDEMPOTENCY_HEADER]: 'exact-notice' } }, 'not_required');
      const receipts = new MailSendReceipts({ provider: h.provider, draftFor: () => null, beforeWrite: () => {} });
      await receipts.send(notice);
      const [sent] = h.sent();
      assert.deepEqual(sent?.to, ['boss@client.example']);
      assertMarkedAs('auto-generated');
      assert.equal(h.draftCount(), 0);
    });

    it('a marked draft edited in the mailbox is replaced: the approved content goes out, still marked', async () => {
      const { original, draft, approved } = await approvedReply('exact-auto-bcc', 'auto-replied');
      await h.editDraftInMailbox.addBcc(draft.id, 'eve@attacker.example');
      const automatic = decided(approved, 'auto_approved');
      await receiptsFor(h.provider, 'exact-auto-bcc', draft, original).send(automatic);
      assertSentExactly(original, automatic);
      assertMarkedAs('auto-replied');
    });
  });
}
