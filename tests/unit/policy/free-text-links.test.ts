// Free text a client opted in to auto-send may link where a reply ordinarily links: under the client's own
// domain and the recipients' registrable domains. Any other link (where a steered model would send the
// client's correspondent: a sign-in page, a "new portal") holds the reply for a human, with the reason said.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { foreignLinkIn, registrableDomainOf } from '../../../agent-image/src/domain/policy/link-host.ts';
import { learnContacts } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { answering, config, NOW, send, state } from './fixtures.ts';

const SENDER = 'bob@partner.com';
const decideReply = (overrides: Record<string, unknown>, to: string = SENDER) =>
  evaluatePolicy(send({ to: [to], ...overrides }), config(), learnContacts(state(), [to]), NOW, answering(to));

describe('links in opted-in free text', () => {
  it('holds a reply linking to a host outside the client\'s and the recipient\'s domains, and says so', () => {
    const decision = decideReply({ body: 'The signed contract is waiting at https://docs-sign.net/contract/42, please log in.' });
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['free_text']);
    assert.match(decision.details?.join(' ') ?? '', /the body links outside the client's and the recipients' domains/);
  });

  it('holds such a link in the subject, in the declared links, or written without a scheme', () => {
    assert.deepEqual(decideReply({ subject: 'Re: lunch, menu at menu-today.net' }).reasons, ['free_text']);
    assert.deepEqual(decideReply({ links: ['https://docs-sign.net/x'] }).reasons, ['free_text']);
    assert.deepEqual(decideReply({ body: 'Portal moved to partner-portal.net/login' }).reasons, ['free_text']);
  });

  it('holds links dressed up as the recipient\'s or the client\'s own', () => {
    for (const body of [
      'See https://partner.com.docs-sign.net/x',
      'See https://partner.com@docs-sign.net/x',
      'See https://docs-sign.net\\@partner.com/x',
      'See https://рartner.com/x', // a Cyrillic р
      'See https://partner-com.net/x',
      'See https://acme.com.evil-site.net/',
    ]) {
      assert.deepEqual(decideReply({ body }).reasons, ['free_text'], body);
    }
  });

  it('holds links with no registrable host and links that are markup or carry their page', () => {
    for (const body of [
      'See http://192.0.2.7/login',
      'See http://intranet/login',
      'See http://[2001:db8::1]/login',
      'Click <a href="https://partner.com">here</a>',
      'Open javascript:alert(1)',
      'Open data:text/html,<h1>hi</h1>',
    ]) {
      assert.deepEqual(decideReply({ body }).reasons, ['free_text'], body);
    }
  });

  it('still auto-sends links under the client\'s own domain and the recipient\'s registrable domain', () => {
    for (const body of [
      'Our pricing is at https://acme.com/pricing.',
      'See https://www.acme.com/pricing and help.acme.com.',
      'Your file is on https://files.partner.com/q3 as you said.',
      'Thursday works, partner.com/contact has my direction notes.',
      'No link here: e.g. version 1.2 of agenda.docx.',
    ]) {
      assert.deepEqual(decideReply({ body }).reasons, ['auto_send'], body);
    }
    // A recipient on a subdomain: the registrable name is what counts, under a multi-label public suffix too.
    assert.deepEqual(decideReply({ body: 'Details on https://docs.partner.co.uk/a' }, 'kim@mail.partner.co.uk').reasons, ['auto_send']);
    assert.deepEqual(decideReply({ body: 'Details on https://docs.other.co.uk/a' }, 'kim@mail.partner.co.uk').reasons, ['free_text']);
  });

  it('reads the client\'s own domain from its mailbox: without a mailbox only the recipient\'s domain is its', () => {
    const cfg = config({ mailbox: undefined });
    const decision = evaluatePolicy(send({ body: 'Our pricing is at https://acme.com/pricing.' }), cfg, state(), NOW, answering(SENDER));
    assert.deepEqual(decision.reasons, ['free_text']);
  });
});

describe('foreignLinkIn and registrableDomainOf', () => {
  const domains = new Set(['partner.com', 'acme.com']);

  it('finds the first link outside the domains, however the text hides its host', () => {
    assert.equal(foreignLinkIn('see https://acme.com/a then evil-site.net/b', domains), 'evil-site.net');
    assert.equal(foreignLinkIn('see evil-site&#46;net/b', domains), 'evil-site.net');
    assert.equal(foreignLinkIn('see ｅｖｉｌ-site.net/b', domains), 'evil-site.net');
    assert.equal(foreignLinkIn('see https://partner.com/a and https://acme.com/b', domains), undefined);
    assert.equal(foreignLinkIn('write to eve@evil-site.net', domains), undefined);
  });

  it('gives the registrable name of a host, none for an address or a single label', () => {
    assert.equal(registrableDomainOf('docs.partner.co.uk'), 'partner.co.uk');
    assert.equal(registrableDomainOf('x.blogspot.com'), 'x.blogspot.com');
    assert.equal(registrableDomainOf('192.0.2.7'), null);
    assert.equal(registrableDomainOf('intranet'), null);
  });
});
