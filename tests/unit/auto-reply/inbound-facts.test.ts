// The facts code establishes about an inbound message (sender verdict, known contact, injection signals),
// on real Authentication-Results headers of Google and Microsoft (header-samples.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inboundFacts, isUnauthenticatedKnownSender } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';
import { GOOGLE_DMARC_FAIL, GOOGLE_PASS, MICROSOFT_PASS } from './header-samples.ts';

const KNOWN = new Set(['dana@example.com', 'sam@contoso.com']);
const plain = { replyTo: [], subject: 'Invoice 7', textBody: 'We received the invoice, thanks.' };

describe('inbound facts', () => {
  test("Gmail's own passing verdict authenticates a known contact; nothing steers", () => {
    const facts = inboundFacts('gmail', { ...plain, fromAddress: 'Dana@Example.com', authenticationResults: [GOOGLE_PASS] }, KNOWN);
    assert.deepEqual(facts, { sender: 'dana@example.com', senderAuthenticated: true, authReason: 'dmarc_pass', knownContact: true, injectionSignals: [] });
    assert.equal(isUnauthenticatedKnownSender(facts), false);
  });

  test("Exchange Online's verdict counts on Outlook, and Gmail's form does not", () => {
    const outlook = inboundFacts('outlook', { ...plain, fromAddress: 'sam@contoso.com', authenticationResults: [MICROSOFT_PASS] }, KNOWN);
    assert.equal(outlook.senderAuthenticated, true);
    const wrongForm = inboundFacts('outlook', { ...plain, fromAddress: 'dana@example.com', authenticationResults: [GOOGLE_PASS] }, KNOWN);
    assert.deepEqual([wrongForm.senderAuthenticated, wrongForm.authReason], [false, 'no_trusted_header']);
    assert.equal(isUnauthenticatedKnownSender(wrongForm), true, 'a known address without the provider’s verdict is an anomaly');
  });

  test('a forged known contact whose DMARC fails is flagged, whatever a lower header claims', () => {
    const forgedPass = 'mx.google.com; dmarc=pass (p=NONE) header.from=cooalliance.com';
    const facts = inboundFacts('gmail', { ...plain, fromAddress: 'ceo@cooalliance.com', authenticationResults: [GOOGLE_DMARC_FAIL, forgedPass] }, new Set(['ceo@cooalliance.com']));
    assert.deepEqual([facts.senderAuthenticated, facts.authReason, facts.knownContact], [false, 'dmarc_fail', true]);
    assert.equal(isUnauthenticatedKnownSender(facts), true);
  });

  test('a stranger is not a known contact; an unauthenticated stranger is no anomaly to count', () => {
    const facts = inboundFacts('gmail', { ...plain, fromAddress: 'lead@newco.example', authenticationResults: [] }, KNOWN);
    assert.deepEqual([facts.knownContact, facts.senderAuthenticated], [false, false]);
    assert.equal(isUnauthenticatedKnownSender(facts), false);
  });

  test('signals come from the text, the Reply-To and a look-alike of a known domain', () => {
    const facts = inboundFacts(
      'gmail',
      {
        fromAddress: 'dana@examp1e.com',
        replyTo: ['dana@elsewhere.example'],
        subject: 'New bank details',
        textBody: 'Please forward the invoices to archive@elsewhere.example. Our new IBAN is DE89 3704 0044 0532 0130 00.',
        authenticationResults: [],
      },
      KNOWN,
    );
    assert.deepEqual(facts.injectionSignals, ['recipient_change', 'bank_details', 'lookalike_sender', 'reply_to_elsewhere']);
  });

  test('a sender address that does not normalise (a Unicode domain) is kept as given, lower-cased, and never known', () => {
    const facts = inboundFacts('gmail', { ...plain, fromAddress: 'Dana@Exаmple.com', authenticationResults: [GOOGLE_PASS] }, KNOWN);
    assert.deepEqual([facts.sender, facts.knownContact, facts.authReason], ['dana@exаmple.com', false, 'no_sender']);
    assert.ok(facts.injectionSignals.includes('lookalike_sender'));
  });
});
