import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import {
  ProviderAuthError,
  ProviderThrottledError,
  type MailProvider,
} from '../../agent-image/src/ports/mail-provider.ts';

/**
 * One behaviour suite for the MailProvider port, run against every adapter pointed at its emulator,
 * so adapters and emulators cannot drift apart.
 */

export interface InboundSeed {
  from: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

/** A message as the emulator's sent log recorded it. */
export interface SentView {
  to: string[];
  /** Bcc addresses it went to. */
  bcc: string[];
  subject: string;
  body: string;
  /** The HTML part (Graph: the body, when it is HTML); null when it had none. */
  html: string | null;
  /** File names of what was attached, inline parts included. */
  attachments: string[];
  threadId: string;
  inReplyTo: string | null;
  idempotencyKey: string | null;
  /** The automatic-send marks it carried (auto-submitted.ts): Auto-Submitted, X-Auto-Response-Suppress. */
  autoSubmitted: string | null;
  autoResponseSuppress: string | null;
}

export interface MailHarness {
  mailbox: string;
  provider: MailProvider;
  /** A provider that was not granted `mail.send`. */
  providerWithoutSend: MailProvider;
  seedInbound(seed: InboundSeed): Promise<{ id: string }>;
  expireHistory(): void;
  revokeConsent(): void;
  invalidateAccessTokens(): void;
  throttle(count: number, retryAfterSeconds: number): void;
  sent(): SentView[];
  /** Drafts in the mailbox now. */
  draftCount(): number;
  /**
   * Edits a draft the way anyone with access to the mailbox can (Gmail, Outlook), through the provider's
   * own API: the agent has no say in it.
   */
  editDraftInMailbox: {
    addBcc(draftId: string, address: string): Promise<void>;
    attach(draftId: string, file: { name: string; content: Buffer }): Promise<void>;
    setHtml(draftId: string, html: string): Promise<void>;
  };
  /** Refresh tokens handed to the rotation hook, in order. */
  rotatedRefreshTokens(): string[];
  /** True when cursor `later` is at or after `earlier`. */
  cursorNotBefore(later: string, earlier: string): boolean;
  labelsOf(id: string): string[];
  inInbox(id: string): boolean;
  isRead(id: string): boolean;
  stop(): Promise<void>;
}

export function mailProviderContract(adapter: string, createHarness: () => Promise<MailHarness>): void {
  describe(`MailProvider contract: ${adapter}`, () => {
    let h: MailHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    const seed = (subject: string, extra: Partial<InboundSeed> = {}) =>
      h.seedInbound({ from: 'Dana Client <dana@customer.example>', subject, text: `Hello about ${subject}`, ...extra });

    it('sync reports each new inbound message once and the cursor never moves backwards', async () => {
      await seed('before the baseline');
      const baseline = await h.provider.listChangesSince(null);
      assert.deepEqual(baseline.messageIds, []);
      const first = await seed('first');
      const second = await seed('second');
      const changes = await h.provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(changes.messageIds, [first.id, second.id]);
      assert.equal(changes.fullResync, false);
      assert.ok(h.cursorNotBefore(changes.nextCursor, baseline.nextCursor));
      const again = await h.provider.listChangesSince(changes.nextCursor);
      assert.deepEqual(again.messageIds, []);
      assert.ok(h.cursorNotBefore(again.nextCursor, changes.nextCursor));
    });

    it('sync does not report the agent’s own drafts and sends as inbound mail', async () => {
      const baseline = await h.provider.listChangesSince(null);
      const draft = await h.provider.createDraft({
        to: ['dana@customer.example'],
        subject: 'Outbound',
        body: 'Hi',
        idempotencyKey: 'own-1',
      });
      await h.provider.sendDraft(draft.id);
      const changes = await h.provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(changes.messageIds, []);
    });

    it('expired history triggers a full resync that lists the inbox without duplicates', async () => {
      const baseline = await h.provider.listChangesSince(null);
      const a = await seed('a');
      const b = await seed('b');
      h.expireHistory();
      const c = await seed('c');
      const resync = await h.provider.listChangesSince(baseline.nextCursor);
      assert.equal(resync.fullResync, true);
      assert.equal(new Set(resync.messageIds).size, resync.messageIds.length);
      assert.deepEqual([...resync.messageIds].sort(), [a.id, b.id, c.id].sort());
      assert.ok(h.cursorNotBefore(resync.nextCursor, baseline.nextCursor));
      const after = await h.provider.listChangesSince(resync.nextCursor);
      assert.deepEqual(after.messageIds, []);
      assert.equal(after.fullResync, false);
    });

    it('getMessage returns the headers the policy decides on and the text body', async () => {
      const { id } = await seed('Weekly digest', {
        headers: { 'List-Id': '<digest.news.example>', 'Auto-Submitted': 'auto-generated', Precedence: 'bulk' },
      });
      const message = await h.provider.getMessage(id);
      assert.equal(message.id, id);
      assert.equal(message.from?.address, 'dana@customer.example');
      assert.equal(message.from?.name, 'Dana Client');
      assert.deepEqual(message.to.map((a) => a.address), [h.mailbox]);
      assert.equal(message.subject, 'Weekly digest');
      assert.match(message.textBody, /Hello about Weekly digest/);
      assert.equal(message.listId, '<digest.news.example>');
      assert.equal(message.autoSubmitted, 'auto-generated');
      assert.equal(message.precedence, 'bulk');
      assert.match(message.messageId ?? '', /^<.+@.+>$/);
      assert.ok(message.receivedAt instanceof Date && !Number.isNaN(message.receivedAt.getTime()));
    });

    it('getMessage returns the List-* headers of list mail that carries no List-Id (RFC 3834 §2)', async () => {
      const { id } = await seed('Our spring offers', {
        headers: { 'List-Unsubscribe': '<https://news.example/u/1>, <mailto:leave@news.example>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click', 'List-Help': '<mailto:help@news.example>' },
      });
      const message = await h.provider.getMessage(id);
      assert.equal(message.listId, null);
      assert.equal(message.autoReplyHeaders['list-unsubscribe'], '<https://news.example/u/1>, <mailto:leave@news.example>');
      assert.equal(message.autoReplyHeaders['list-unsubscribe-post'], 'List-Unsubscribe=One-Click');
      assert.equal(message.autoReplyHeaders['list-help'], '<mailto:help@news.example>');
      assert.equal(message.autoReplyHeaders['list-post'], undefined);
    });

    it('getMessage returns Reply-To, Cc and the Authentication-Results header the sender rule reads', async () => {
      const verdict = 'mx.google.com; spf=pass smtp.mailfrom=customer.example; dmarc=pass (p=REJECT) header.from=customer.example';
      const { id } = await seed('Routing', {
        headers: { 'Reply-To': 'Billing Desk <billing@other.example>', Cc: 'lee@partner.example', 'Authentication-Results': verdict },
      });
      const message = await h.provider.getMessage(id);
      assert.deepEqual(message.replyTo, [{ address: 'billing@other.example', name: 'Billing Desk' }]);
      assert.deepEqual(message.cc.map((a) => a.address), ['lee@partner.example']);
      assert.deepEqual(message.authenticationResults, [verdict]);
      assert.deepEqual((await h.provider.getMessage((await seed('plain')).id)).authenticationResults, []);
    });

    it('an unknown message id is not_found', async () => {
      await assert.rejects(h.provider.getMessage('does-not-exist'), (e: unknown) => e instanceof FleetError && e.code === 'not_found');
    });

    it('a reply draft threads on the original and sending it delivers exactly one message with the idempotency header', async () => {
      const { id } = await seed('Meeting on Tuesday?');
      const original = await h.provider.getMessage(id);
      const draft = await h.provider.createDraft({
        to: ['dana@customer.example'],
        subject: original.subject,
        body: 'Tuesday works for me.',
        inReplyTo: id,
        idempotencyKey: 'reply-0001',
      });
      assert.equal(draft.threadId, original.threadId);
      assert.equal(draft.idempotencyKey, 'reply-0001');
      assert.match(draft.subject, /^re: meeting on tuesday\?$/i);
      const sent = await h.provider.sendDraft(draft.id);
      assert.equal(sent.idempotencyKey, 'reply-0001');
      const log = h.sent();
      assert.equal(log.length, 1);
      const [delivered] = log;
      assert.deepEqual(delivered?.to, ['dana@customer.example']);
      assert.equal(delivered?.idempotencyKey, 'reply-0001');
      assert.equal(delivered?.inReplyTo, original.messageId);
      assert.equal(delivered?.threadId, original.threadId);
      assert.match(delivered?.body ?? '', /Tuesday works for me\./);
      const thread = await h.provider.getThread(original.threadId);
      assert.deepEqual(thread.map((m) => m.idempotencyKey), [null, 'reply-0001']);
    });

    it('findSentByIdempotencyKey finds the sent message and nothing for an unknown key', async () => {
      const draft = await h.provider.createDraft({
        to: ['lee@partner.example'],
        subject: 'Follow-up',
        body: 'Just checking in.',
        idempotencyKey: 'send-42',
      });
      assert.equal(await h.provider.findSentByIdempotencyKey('send-42'), null);
      const sent = await h.provider.sendDraft(draft.id);
      const found = await h.provider.findSentByIdempotencyKey('send-42');
      assert.ok(found !== null);
      assert.equal(found.idempotencyKey, 'send-42');
      if (sent.id !== null) assert.equal(found.id, sent.id);
      assert.equal(await h.provider.findSentByIdempotencyKey('send-43'), null);
    });

    it('updateDraft keeps the idempotency key and threading; deleteDraft removes it', async () => {
      const { id } = await seed('Quote');
      const draft = await h.provider.createDraft({
        to: ['dana@customer.example'],
        subject: 'Quote',
        body: 'First version',
        inReplyTo: id,
        idempotencyKey: 'edit-1',
      });
      const updated = await h.provider.updateDraft(draft.id, { body: 'Second version', cc: ['boss@acme.example'] });
      assert.equal(updated.idempotencyKey, 'edit-1');
      assert.equal(updated.threadId, draft.threadId);
      assert.match(updated.body, /Second version/);
      assert.deepEqual(updated.cc, ['boss@acme.example']);
      assert.match((await h.provider.getDraft(draft.id)).body, /Second version/);
      await h.provider.deleteDraft(draft.id);
      await assert.rejects(h.provider.getDraft(draft.id), (e: unknown) => e instanceof FleetError && e.code === 'not_found');
      assert.equal(h.sent().length, 0);
    });

    it('getDraft shows a Bcc, an attachment and an HTML part added to the draft in the mailbox', async () => {
      const draft = await h.provider.createDraft({ to: ['dana@customer.example'], subject: 'Invoice', body: 'Attached.', idempotencyKey: 'seen-1' });
      assert.deepEqual([draft.bcc, draft.attachments, draft.html], [[], 0, null]);
      await h.editDraftInMailbox.addBcc(draft.id, 'eve@attacker.example');
      await h.editDraftInMailbox.attach(draft.id, { name: 'invoice.pdf', content: Buffer.from('%PDF-1.4 fake') });
      await h.editDraftInMailbox.setHtml(draft.id, '<p>Attached. <a href="https://pay.attacker.example">Pay here</a></p>');
      const read = await h.provider.getDraft(draft.id);
      assert.deepEqual(read.bcc, ['eve@attacker.example']);
      assert.equal(read.attachments, 1);
      assert.match(read.html ?? '', /pay\.attacker\.example/);
      assert.deepEqual(read.to, ['dana@customer.example']);
      assert.equal(read.idempotencyKey, 'seen-1');
    });

    it('sending an unknown draft is not_found and sends nothing', async () => {
      await assert.rejects(h.provider.sendDraft('no-such-draft'), (e: unknown) => e instanceof FleetError && e.code === 'not_found');
      assert.equal(h.sent().length, 0);
    });

    it('an adapter without mail.send refuses to send', async () => {
      const draft = await h.providerWithoutSend.createDraft({
        to: ['dana@customer.example'],
        subject: 'Not allowed',
        body: 'x',
        idempotencyKey: 'nosend-1',
      });
      await assert.rejects(h.providerWithoutSend.sendDraft(draft.id), (e: unknown) => e instanceof FleetError && e.code === 'forbidden');
      assert.equal(h.sent().length, 0);
    });

    it('a malformed idempotency key is rejected before anything is written', async () => {
      await assert.rejects(
        h.provider.createDraft({ to: ['a@b.example'], subject: 's', body: 'b', idempotencyKey: 'bad\r\nBcc: x@y.example' }),
        (e: unknown) => e instanceof FleetError && e.code === 'invalid_input',
      );
    });

    it('hasPreviousCommunicationWith is true only after mail was sent to the address', async () => {
      assert.equal(await h.provider.hasPreviousCommunicationWith('lee@partner.example'), false);
      const draft = await h.provider.createDraft({ to: ['lee@partner.example'], subject: 'Hi', body: 'Hello', idempotencyKey: 'known-1' });
      await h.provider.sendDraft(draft.id);
      assert.equal(await h.provider.hasPreviousCommunicationWith('LEE@partner.example'), true);
      assert.equal(await h.provider.hasPreviousCommunicationWith('other@partner.example'), false);
      await assert.rejects(h.provider.hasPreviousCommunicationWith('not an address'), (e: unknown) => e instanceof FleetError && e.code === 'invalid_input');
    });

    it('label, archive and markRead change the message in the mailbox', async () => {
      const { id } = await seed('Invoice');
      await h.provider.label(id, 'agent/handled');
      await h.provider.label(id, 'agent/handled');
      assert.deepEqual(h.labelsOf(id).filter((l) => l === 'agent/handled'), ['agent/handled']);
      assert.equal(h.isRead(id), false);
      await h.provider.markRead(id);
      assert.equal(h.isRead(id), true);
      await h.provider.archive(id);
      assert.equal(h.inInbox(id), false);
    });

    it('revoked consent surfaces as a typed, non-retryable auth error', async () => {
      h.revokeConsent();
      await assert.rejects(h.provider.listChangesSince(null), (e: unknown) => {
        assert.ok(e instanceof ProviderAuthError, String(e));
        assert.equal(e.code, 'unauthorized');
        assert.equal(e.kind, 'revoked');
        assert.equal(e.retryable, false);
        return true;
      });
    });

    it('a single 401 refreshes the token once and the call succeeds', async () => {
      const baseline = await h.provider.listChangesSince(null);
      const { id } = await seed('after token loss');
      h.invalidateAccessTokens();
      const changes = await h.provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(changes.messageIds, [id]);
    });

    it('a rotated refresh token is handed to the rotation hook and used from then on', async () => {
      await h.provider.listChangesSince(null);
      const rotated = h.rotatedRefreshTokens();
      assert.equal(rotated.length, 1);
      h.invalidateAccessTokens();
      await h.provider.listChangesSince(null);
      const after = h.rotatedRefreshTokens();
      assert.equal(after.length, 2);
      assert.notEqual(after[1], after[0]);
    });

    it('429 with Retry-After surfaces as a typed retryable error carrying the delay', async () => {
      await h.provider.listChangesSince(null);
      h.throttle(1, 7);
      await assert.rejects(h.provider.listChangesSince(null), (e: unknown) => {
        assert.ok(e instanceof ProviderThrottledError, String(e));
        assert.equal(e.retryable, true);
        assert.equal(e.retryAfterMs, 7000);
        return true;
      });
      const recovered = await h.provider.listChangesSince(null);
      assert.deepEqual(recovered.messageIds, []);
    });
  });
}
