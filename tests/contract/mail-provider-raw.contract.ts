import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MailProvider } from '../../agent-image/src/ports/mail-provider.ts';

/**
 * Raw RFC 5322 mail, delivered byte for byte to each emulator (Gmail `users.messages.import`, Graph's
 * emulator-only MIME delivery) and read back through the adapter: every header the sender and
 * authentication rules decide on survives, the same way for both providers.
 */

export interface RawMailHarness {
  mailbox: string;
  provider: MailProvider;
  /** Delivers raw bytes to the inbox; rejects when the emulated service refuses them. */
  deliverRaw(raw: Buffer): Promise<{ id: string }>;
  stop(): Promise<void>;
}

const CRLF = '\r\n';

/** A message as a sender's MTA would hand it over, with the receiving provider's verdict on top. */
export function rawMessage(options: {
  messageId: string;
  subject: string;
  from?: string;
  to: string;
  extraHeaders?: string[];
  body?: Buffer;
  charset?: string;
}): Buffer {
  const headers = [
    ...(options.extraHeaders ?? []),
    `From: ${options.from ?? '=?UTF-8?B?w4ltaWxpZSBEdXBvbnQ=?= <emilie@customer.example>'}`,
    `To: ${options.to}`,
    `Subject: ${options.subject}`,
    'Date: Mon, 02 Jun 2025 09:30:00 +0000',
    `Message-ID: ${options.messageId}`,
    'MIME-Version: 1.0',
    `Content-Type: text/plain; charset=${options.charset ?? 'utf-8'}`,
    'Content-Transfer-Encoding: 8bit',
  ];
  return Buffer.concat([Buffer.from(headers.join(CRLF) + CRLF + CRLF, 'latin1'), options.body ?? Buffer.from(`Hello${CRLF}`, 'utf8')]);
}

const GOOGLE_VERDICT = [
  'Authentication-Results: mx.google.com;',
  '       dkim=pass header.i=@customer.example header.s=20230601 header.b=Ab/c+dE=;',
  '       spf=pass (google.com: domain of bounce@mail.customer.example designates 192.0.2.1 as permitted sender) smtp.mailfrom=bounce@mail.customer.example;',
  '       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=customer.example',
].join(CRLF);
const FORGED = 'Authentication-Results: mx.google.com; dmarc=pass header.from=bank.example';

export function rawMailContract(adapter: string, createHarness: () => Promise<RawMailHarness>): void {
  describe(`MailProvider raw mail: ${adapter}`, () => {
    let h: RawMailHarness;
    beforeEach(async () => {
      h = await createHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    it('keeps Cc, Reply-To, In-Reply-To, References, Auto-Submitted, List-Id and every Authentication-Results header, top first', async () => {
      const raw = rawMessage({
        messageId: '<raw-1@customer.example>',
        subject: 'Invoice 42',
        to: h.mailbox,
        extraHeaders: [
          GOOGLE_VERDICT,
          'Received: from mail.customer.example (mail.customer.example [192.0.2.1]) by mx.example; Mon, 02 Jun 2025 09:30:01 +0000',
          FORGED,
          'Cc: Lee <lee@partner.example>, "Kim, Jo" <kim@partner.example>',
          'Reply-To: Billing <billing@elsewhere.example>',
          'In-Reply-To: <earlier@acme.example>',
          'References: <first@acme.example>',
          ' <earlier@acme.example>',
          'Auto-Submitted: auto-replied',
          'List-Id: Customers <customers.lists.customer.example>',
        ],
      });
      const { id } = await h.deliverRaw(raw);
      const message = await h.provider.getMessage(id);
      assert.deepEqual(message.from, { address: 'emilie@customer.example', name: 'Émilie Dupont' });
      assert.deepEqual(message.to.map((a) => a.address), [h.mailbox]);
      assert.deepEqual(message.cc, [
        { address: 'lee@partner.example', name: 'Lee' },
        { address: 'kim@partner.example', name: 'Kim, Jo' },
      ]);
      assert.deepEqual(message.replyTo, [{ address: 'billing@elsewhere.example', name: 'Billing' }]);
      assert.equal(message.inReplyTo, '<earlier@acme.example>');
      assert.deepEqual(message.references, ['<first@acme.example>', '<earlier@acme.example>']);
      assert.equal(message.autoSubmitted, 'auto-replied');
      assert.equal(message.listId, 'Customers <customers.lists.customer.example>');
      assert.equal(message.messageId, '<raw-1@customer.example>');
      assert.equal(message.subject, 'Invoice 42');
      assert.equal(message.authenticationResults.length, 2);
      assert.match(message.authenticationResults[0] ?? '', /^mx\.google\.com; dkim=pass header\.i=@customer\.example .*dmarc=pass \(p=REJECT sp=REJECT dis=NONE\) header\.from=customer\.example$/);
      assert.doesNotMatch(message.authenticationResults[0] ?? '', /[\r\n]/);
      assert.equal(message.authenticationResults[1], 'mx.google.com; dmarc=pass header.from=bank.example');
    });

    it('decodes the body in its declared charset, so the bytes arrived unchanged', async () => {
      const raw = rawMessage({
        messageId: '<raw-2@customer.example>',
        subject: '=?ISO-8859-1?Q?Gr=FC=DFe?=',
        to: h.mailbox,
        charset: 'iso-8859-1',
        body: Buffer.from('Viele Grüße aus Köln\r\n', 'latin1'),
      });
      const message = await h.provider.getMessage((await h.deliverRaw(raw)).id);
      assert.equal(message.subject, 'Grüße');
      assert.match(message.textBody, /Viele Grüße aus Köln/);
    });

    it('a raw reply joins the thread of the message it references, and sync lists it once', async () => {
      const baseline = await h.provider.listChangesSince(null);
      const first = await h.deliverRaw(rawMessage({ messageId: '<thread-1@customer.example>', subject: 'Planning', to: h.mailbox }));
      const second = await h.deliverRaw(
        rawMessage({
          messageId: '<thread-2@customer.example>',
          subject: 'Re: Planning',
          to: h.mailbox,
          extraHeaders: ['In-Reply-To: <thread-1@customer.example>', 'References: <thread-1@customer.example>'],
        }),
      );
      const changes = await h.provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(changes.messageIds, [first.id, second.id]);
      const [a, b] = [await h.provider.getMessage(first.id), await h.provider.getMessage(second.id)];
      assert.equal(b.threadId, a.threadId);
      assert.deepEqual((await h.provider.getThread(a.threadId)).map((m) => m.id).sort(), [first.id, second.id].sort());
      const unrelated = await h.deliverRaw(rawMessage({ messageId: '<other@customer.example>', subject: 'Re: Planning', to: h.mailbox }));
      assert.notEqual((await h.provider.getMessage(unrelated.id)).threadId, a.threadId);
    });

    it('bytes that are not a message are refused by the service and never reach the inbox', async () => {
      const baseline = await h.provider.listChangesSince(null);
      await assert.rejects(h.deliverRaw(Buffer.from('this is not an RFC 5322 message\r\n')));
      assert.deepEqual((await h.provider.listChangesSince(baseline.nextCursor)).messageIds, []);
    });
  });
}
