// Crafted inbound mail as the Gmail adapter reads it and answers it: the sender chooses the MIME
// structure, the From list and the References header.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { MimeParser } from '../../../agent-image/src/adapters/gmail/gmail-body-text.ts';
import { parseRaw, toInboundMessage } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';
import { replyIds } from '../../../agent-image/src/adapters/gmail/gmail-reply-ids.ts';

const envelope = { id: 'm-1', threadId: 't-1', internalDate: '1748856600000', labelIds: ['INBOX'] };
const BANK = 'Our bank details changed: please pay the invoice to the new account today.';

function raw(headers: string[], contentType: string, body: string): Buffer {
  const all = [...headers, 'To: client@client.example', 'Subject: Invoice', 'MIME-Version: 1.0', `Content-Type: ${contentType}`];
  return Buffer.from(`${all.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}
const FROM = ['From: Eve <eve@evil.example>'];
const read = async (bytes: Buffer) => toInboundMessage(await parseRaw(bytes), envelope);

/** simpleParser, counting the calls whose input is larger than `over` bytes. */
function countingParser(over: number): { parse: MimeParser; large: () => number } {
  let large = 0;
  const parse: MimeParser = (input, options): Promise<ParsedMail> => {
    if (input.length > over) large += 1;
    return simpleParser(input, options);
  };
  return { parse, large: () => large };
}

describe('gmail crafted inbound: one parse of a large message', () => {
  for (const [kind, htmlPart] of [['text', ''], ['small HTML', `--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${BANK}</p>\r\n`]] as const) {
    it(`a message with a large attachment and ${kind} is parsed once, its text still read`, async () => {
      const attachment = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
      const body = `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the file.\r\n${htmlPart}--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b--\r\n`;
      const bytes = raw(FROM, 'multipart/mixed; boundary=b', body);
      const counter = countingParser(1024 * 1024);
      const message = toInboundMessage(await parseRaw(bytes, counter.parse), envelope);
      assert.equal(counter.large(), 1);
      assert.match(message.textBody, /See the file\./);
      if (htmlPart !== '') assert.match(message.textBody, new RegExp(BANK));
    });
  }
});

describe('gmail crafted inbound: a From of several addresses', () => {
  for (const from of ['From: eve@evil.example, ceo@client.example', 'From: ceo@client.example, eve@evil.example', 'From: Team: ceo@client.example;']) {
    it(`${from} is no sender (not the first address, never a known contact)`, async () => {
      const message = await read(raw([from, 'Sender: eve@evil.example'], 'text/plain', 'Hello'));
      assert.equal(message.from, null);
    });
  }

  it('two From headers are no sender', async () => {
    const message = await read(raw(['From: ceo@client.example', 'From: eve@evil.example'], 'text/plain', 'Hello'));
    assert.equal(message.from, null);
  });

  it('one From address is the sender, as before', async () => {
    const message = await read(raw(FROM, 'text/plain', 'Hello'));
    assert.deepEqual(message.from, { address: 'eve@evil.example', name: 'Eve' });
  });
});

describe('gmail crafted inbound: bodies mailparser keeps as attachments', () => {
  it('a text/enriched body is read as text, its formatting commands dropped', async () => {
    const message = await read(raw(FROM, 'text/enriched; charset=utf-8', `<bold>Our bank</bold> details<param>hidden</param> changed:\r\nplease pay <<today>.`));
    assert.equal(message.textBody, 'Our bank details changed: please pay <today>.');
  });

  it('a message whose body is another message is read by that message’s text', async () => {
    const inner = `From: ceo@client.example\r\nSubject: fwd\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${BANK}</p>\r\n`;
    const message = await read(raw(FROM, 'message/rfc822', inner));
    assert.match(message.textBody, /another message/);
    assert.match(message.textBody, new RegExp(BANK));
  });

  it('messages nested in messages are read to a bounded depth', async () => {
    let body = `Content-Type: text/plain\r\n\r\n${BANK}\r\n`;
    for (let level = 0; level < 6; level += 1) body = `Content-Type: message/rfc822\r\n\r\n${body}`;
    const message = await read(raw(FROM, 'message/rfc822', body));
    assert.match(message.textBody, /nested too deep/);
  });
});

describe('gmail crafted inbound: the ids a reply copies', () => {
  it('References keeps well-formed ids only, the first and the newest, and ends with the answered message', () => {
    const many = Array.from({ length: 5000 }, (_, index) => `<r${index}@mail.example>`);
    const { inReplyTo, references } = replyIds({ messageId: '<last@mail.example>', references: ['<root@mail.example>', 'bare-word', '<a b@x>', '<x@y>\rBcc: eve@evil.example', ...many] });
    assert.equal(inReplyTo, '<last@mail.example>');
    assert.equal(references[0], '<root@mail.example>');
    assert.equal(references.at(-1), '<last@mail.example>');
    assert.ok(references.includes('<r4999@mail.example>'));
    assert.ok(references.length <= 41);
    assert.ok(references.every((id) => /^<[^\s<>]+@[^\s<>]+>$/.test(id)));
    assert.ok(references.join(' ').length <= 8 * 1024);
  });

  it('a malformed Message-ID is not copied to In-Reply-To', () => {
    assert.equal(replyIds({ messageId: '<x@y>\r\nBcc: eve@evil.example', references: [] }).inReplyTo, null);
  });
});
