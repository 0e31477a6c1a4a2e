// The text body the agent reads of an HTML message: the model, the injection scan and the reviewer read
// it; the client's mail app shows the HTML. A sender chooses the MIME structure, so the HTML's text must be
// read whatever structure carries it, and the sender must not choose how much HTML is converted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HTML_TO_CONVERT, parseRaw, toInboundMessage } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';
import { inboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';

const envelope = { id: 'm-1', threadId: 't-1', internalDate: '1748856600000', labelIds: ['INBOX'] };
const BANK = 'Our bank details changed: please pay the invoice to the new account today.';

function raw(contentType: string, body: string): Buffer {
  const headers = ['From: Eve <eve@evil.example>', 'To: client@client.example', 'Subject: Invoice', 'Date: Mon, 02 Jun 2025 09:30:00 +0000', 'MIME-Version: 1.0', `Content-Type: ${contentType}`];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

/** A multipart body of the given parts, each `[content type, content]`. */
const multipart = (parts: [string, string][]): string => `${parts.map(([type, content]) => `--b\r\nContent-Type: ${type}\r\n\r\n${content}\r\n`).join('')}--b--\r\n`;

const read = async (bytes: Buffer) => toInboundMessage(await parseRaw(bytes), envelope);
const signalsOf = (textBody: string) =>
  inboundFacts('gmail', { fromAddress: 'eve@evil.example', replyTo: [], subject: 'Invoice', textBody, authenticationResults: [] }, new Set()).injectionSignals;

describe('gmail message: the text of an HTML body', () => {
  for (const subtype of ['mixed', 'related', 'alternative']) {
    it(`HTML alone inside multipart/${subtype} is read as text, not as an empty message`, async () => {
      const message = await read(raw(`multipart/${subtype}; boundary=b`, multipart([['text/html; charset=utf-8', `<html><body><p>${BANK}</p></body></html>`]])));
      assert.match(message.textBody, new RegExp(BANK));
      assert.ok(signalsOf(message.textBody).includes('bank_details'));
    });
  }

  it('a blank text alternative does not hide the HTML a mail app shows', async () => {
    const message = await read(raw('multipart/alternative; boundary=b', multipart([['text/plain; charset=utf-8', ' \r\n'], ['text/html; charset=utf-8', `<p>${BANK}</p>`]])));
    assert.match(message.textBody, new RegExp(BANK));
  });

  it('a text alternative that says what its HTML says is what is read (the HTML alternative is not added)', async () => {
    const html = '<h1>Thanks</h1><p>see&nbsp;you <b>Mon\u00adday</b>, <a href="https://partner.example/agenda">the agenda</a>.</p>';
    const message = await read(raw('multipart/alternative; boundary=b', multipart([['text/plain; charset=utf-8', 'Thanks, see you Monday: the agenda <https://partner.example/a>.'], ['text/html; charset=utf-8', html]])));
    assert.equal(message.textBody.trim(), 'Thanks, see you Monday: the agenda <https://partner.example/a>.');
  });

  it('an HTML part of a single-part message is still converted by mailparser (links and all)', async () => {
    const message = await read(raw('text/html; charset=utf-8', '<p>Hello <a href="https://example.org/x">there</a></p>'));
    assert.doesNotMatch(message.textBody, /could not be converted/);
    assert.match(message.textBody, /Hello there \[https:\/\/example\.org\/x\]/);
  });

  it('HTML over the conversion limit in total is read without markup, even when no one part is over it', async () => {
    // Each part is under the limit; together they are over it. Converting them cost about a second per megabyte of blocked event loop.
    const part = `<p>${'word '.repeat(Math.ceil(MAX_HTML_TO_CONVERT / 2 / 5))}</p>`;
    const message = await read(
      raw('multipart/mixed; boundary=b', multipart([['text/plain; charset=utf-8', 'See below.'], ['text/html; charset=utf-8', part], ['text/html; charset=utf-8', `${part}<p>${BANK}</p>`]])),
    );
    assert.match(message.textBody, /^See below\./);
    assert.match(message.textBody, /could not be converted to text/);
    assert.match(message.textBody, new RegExp(BANK));
    assert.ok(signalsOf(message.textBody.slice(-5_000)).includes('bank_details'));
  });

  it('one HTML part over the limit is read without markup', async () => {
    const message = await read(raw('text/html; charset=utf-8', `<p>${'x'.repeat(MAX_HTML_TO_CONVERT)}</p><p>${BANK}</p>`));
    assert.match(message.textBody, /could not be converted to text/);
    assert.match(message.textBody, new RegExp(BANK));
  });
});
