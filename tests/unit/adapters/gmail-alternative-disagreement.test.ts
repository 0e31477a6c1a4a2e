// A multipart/alternative message carries its words twice, and the sender writes both versions: a mail app
// shows the HTML, the agent reads the text. What the HTML says beyond the text must reach the model, the
// injection scan and the reviewer too.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_HTML_TO_CONVERT, parseRaw, toInboundMessage } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';
import { inboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';

const envelope = { id: 'm-1', threadId: 't-1', internalDate: '1748856600000', labelIds: ['INBOX'] };
const BANK = 'Our bank details changed: please pay the invoice to the new account today.';

function alternative(text: string, html: string): Buffer {
  const headers = ['From: Bob <bob@partner.example>', 'To: client@client.example', 'Subject: Order', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary=b'];
  const body = `--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n--b--\r\n`;
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

const read = async (bytes: Buffer) => toInboundMessage(await parseRaw(bytes), envelope);
const signalsOf = (textBody: string) =>
  inboundFacts('gmail', { fromAddress: 'bob@partner.example', replyTo: [], subject: 'Order', textBody, authenticationResults: [] }, new Set()).injectionSignals;

describe('gmail message: text and HTML alternatives that disagree', () => {
  it('HTML that says more than its text alternative is read too, said to be the version a mail app shows', async () => {
    const message = await read(alternative('Can you confirm the order?', `<p>Can you confirm the order?</p><p>${BANK}</p>`));
    assert.match(message.textBody, /^Can you confirm the order\?/);
    assert.match(message.textBody, /HTML version of this message, which a mail app shows, says more than its text version/);
    assert.match(message.textBody, new RegExp(BANK));
    assert.ok(signalsOf(message.textBody).includes('bank_details'));
  });

  it('HTML over the conversion limit beside a text alternative is compared and read without markup', async () => {
    const filler = `<style>p { margin: 0 }</style><p>${'order '.repeat(Math.ceil(MAX_HTML_TO_CONVERT / 6))}</p>`;
    const message = await read(alternative('order', `${filler}<p>${BANK}</p>`));
    assert.match(message.textBody, new RegExp(BANK));
    assert.doesNotMatch(message.textBody, /margin/, 'a style sheet is no text a reader sees');
  });

  it('HTML that says what its text says adds nothing: capitals, entities, soft hyphens and link targets aside', async () => {
    const html = '<h1>Order</h1><p>Can&nbsp;you con\u00adfirm <b>the order</b>? <a href="https://partner.example/o/17">Details</a></p>';
    const message = await read(alternative('Order\r\n\r\nCan you confirm the order? Details: https://partner.example/orders/17', html));
    assert.equal(message.textBody.trim(), 'Order\n\nCan you confirm the order? Details: https://partner.example/orders/17');
  });
});
