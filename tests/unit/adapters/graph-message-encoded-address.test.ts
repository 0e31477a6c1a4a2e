// An RFC 2047 encoded word inside an address is forbidden (RFC 2047 §5), and whether Exchange decodes it
// when it fills `from` and the recipient lists is not documented; the emulator decodes it, the worst case.
// The Graph adapter keeps only addresses as written in the raw header, so `=?utf-8?q?ceo?=@client.example`
// never becomes the known contact ceo@client.example.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GraphMailProvider } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { inboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { graphTokenSource } from '../../helpers/oauth-tokens.ts';

const KNOWN = new Set(['ceo@client.example']);

function raw(headers: string[]): Buffer {
  const lines = [...headers, 'Subject: Wire today', 'Date: Mon, 02 Jun 2025 09:30:00 +0000', `Message-ID: <${crypto.randomUUID()}@evil.example>`, 'Content-Type: text/plain; charset=utf-8'];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\nPlease pay the invoice.\r\n`, 'utf8');
}

const knownContact = (message: MailMessage) =>
  inboundFacts('outlook', { fromAddress: message.from?.address ?? null, replyTo: [], subject: '', textBody: '', authenticationResults: [] }, KNOWN).knownContact;

describe('Graph addresses with encoded words', () => {
  let emulator: GraphEmulator;
  let provider: GraphMailProvider;
  before(async () => {
    emulator = new GraphEmulator();
    await emulator.start();
    provider = new GraphMailProvider({ tokens: graphTokenSource(emulator, graphScopesFor({ 'mail.read': true })), baseUrl: emulator.baseUrl, canSend: false, logger: createSilentLogger() });
  });
  after(async () => {
    await emulator.stop();
  });
  const read = async (headers: string[]) => provider.getMessage((await emulator.deliverRaw(raw(headers))).id);

  for (const from of ['=?utf-8?q?ceo?=@client.example', 'Eve <=?utf-8?q?ceo=40client.example?=>', '=?utf-8?q?ceo?=@client.example, eve@evil.example']) {
    it(`From: ${from} is no sender, never the known contact`, async () => {
      const message = await read([`From: ${from}`, `To: ${emulator.mailbox}`]);
      assert.equal(message.from, null, JSON.stringify(message.from));
      assert.equal(knownContact(message), false);
    });
  }

  it('an encoded address in Reply-To or Cc is left out; the addresses written plainly stay', async () => {
    const message = await read(['From: Eve <eve@evil.example>', `To: ${emulator.mailbox}`, 'Cc: =?utf-8?q?ceo?=@client.example, bob@partner.example', 'Reply-To: =?utf-8?q?ceo?=@client.example']);
    assert.equal(message.from?.address, 'eve@evil.example');
    assert.deepEqual(message.replyTo, []);
    assert.deepEqual(message.cc.map((entry) => entry.address), ['bob@partner.example']);
  });

  it('an encoded display name is decoded and the plain address kept', async () => {
    const message = await read(['From: =?utf-8?q?C=C3=A9line?= <ceo@client.example>', `To: ${emulator.mailbox}`]);
    assert.deepEqual(message.from, { address: 'ceo@client.example', name: 'Céline' });
    assert.equal(knownContact(message), true);
  });

  it('a From of several addresses is no sender (not Graph’s one `from`), and a verdict about another of them authenticates nothing', async () => {
    const message = await read([
      // As Exchange Online Protection stamps it, above every header the sender wrote.
      'Authentication-Results: spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=evil.example; dkim=pass (signature was verified) header.d=evil.example;dmarc=pass action=none header.from=evil.example;compauth=pass reason=100',
      'From: ceo@client.example, eve@evil.example',
      'Sender: eve@evil.example',
      `To: ${emulator.mailbox}`,
    ]);
    assert.equal(message.from, null, JSON.stringify(message.from));
    const facts = inboundFacts('outlook', { fromAddress: null, replyTo: [], subject: '', textBody: '', authenticationResults: message.authenticationResults }, KNOWN);
    assert.equal(facts.knownContact, false);
    assert.equal(facts.senderAuthenticated, false, facts.authReason);
  });

  it('the thread reads addresses the same way', async () => {
    const message = await read(['From: =?utf-8?q?ceo?=@client.example', `To: ${emulator.mailbox}`]);
    const [entry] = await provider.getThread(message.threadId);
    assert.equal(entry?.from, null);
  });
});
