// RFC 2047 §5: an encoded word never appears inside an address. mailparser decodes one there anyway, so
// `=?utf-8?q?ceo?=@client.example` would reach the agent as ceo@client.example: a known contact's address
// the header does not carry (the sender's provider, DMARC and the client's mail app see another one).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRaw, toInboundMessage } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';
import { inboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';

const envelope = { id: 'm-1', threadId: 't-1', internalDate: '1748856600000', labelIds: ['INBOX'] };
const CONTACTS = new Set(['ceo@client.example']);
// The verdict the sender's own domain can earn: DMARC passes for the domain the header names.
const PASS = ['mx.google.com; dkim=pass header.i=@client.example; spf=pass smtp.mailfrom=bounce@client.example; dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=client.example'];

async function read(headers: string[]) {
  const raw = Buffer.from([...headers, 'To: client@client.example', 'Subject: Invoice', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', 'Please pay today.'].join('\r\n'), 'utf8');
  return toInboundMessage(await parseRaw(raw), envelope);
}

describe('gmail message: encoded words inside addresses', () => {
  for (const from of ['=?utf-8?q?ceo?=@client.example', 'Bob <=?utf-8?b?Y2Vv?=@client.example>', '"ceo@client.example" <=?utf-8?q?ceo?=@client.example>', 'c=?utf-8?q?e?=o@client.example', 'ceo@=?utf-8?q?client.example?=']) {
    it(`From: ${from} is no sender, never the known contact it decodes to`, async () => {
      const message = await read([`From: ${from}`]);
      const fromAddress = message.from?.address ?? null;
      assert.equal(message.from, null);
      const facts = inboundFacts('gmail', { fromAddress, replyTo: [], subject: message.subject, textBody: message.textBody, authenticationResults: PASS }, CONTACTS);
      assert.equal(facts.knownContact, false);
      assert.equal(facts.senderAuthenticated, false);
    });
  }

  it('Reply-To, To and Cc leave out a decoded address and keep the others', async () => {
    const message = await read(['From: Bob <bob@partner.example>', 'Reply-To: =?utf-8?q?ceo?=@client.example, bob@partner.example', 'Cc: =?utf-8?q?ceo?=@client.example']);
    assert.deepEqual(message.replyTo, [{ address: 'bob@partner.example', name: null }]);
    assert.deepEqual(message.cc, []);
    assert.deepEqual(message.to, [{ address: 'client@client.example', name: null }]);
  });

  it('an encoded display name is decoded as before, and its address kept', async () => {
    const message = await read(['From: =?utf-8?q?Bj=C3=B6rn_Berg?= <bjorn@partner.example>']);
    assert.deepEqual(message.from, { address: 'bjorn@partner.example', name: 'Björn Berg' });
  });

  it('an internationalised domain is still read (mailparser shows it in Unicode)', async () => {
    const message = await read(['From: info@xn--mnchen-3ya.example']);
    assert.equal(message.from?.address, 'info@münchen.example');
  });
});
