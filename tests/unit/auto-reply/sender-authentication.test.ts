import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { organisationalDomain, relaxedAligned } from '../../../agent-image/src/domain/sender-authentication/organisational-domain.ts';
import { authenticateSender, type MailProviderKind } from '../../../agent-image/src/domain/sender-authentication/sender-verdict.ts';
import { GOOGLE_DMARC_FAIL, GOOGLE_PASS, MICROSOFT_BESTGUESS, MICROSOFT_PASS, MICROSOFT_TEMPERROR } from './header-samples.ts';

const verdict = (provider: MailProviderKind, fromAddress: string | null, headers: string[]) =>
  authenticateSender({ provider, fromAddress, authenticationResults: headers });

describe('organisational domain (relaxed alignment)', () => {
  it('uses the Public Suffix List, private section included', () => {
    assert.equal(organisationalDomain('mail.victim.co.uk'), 'victim.co.uk');
    assert.equal(organisationalDomain('A.B.Example.COM.'), 'example.com');
    assert.equal(organisationalDomain('alice.github.io'), 'alice.github.io');
    assert.ok(relaxedAligned('bounce.mail.example.com', 'example.com'));
    assert.ok(!relaxedAligned('evil.co.uk', 'victim.co.uk'));
    assert.ok(!relaxedAligned('mallory.github.io', 'alice.github.io'));
    assert.ok(!relaxedAligned('example.com.evil.net', 'example.com'));
  });
});

describe('sender authentication from the provider’s Authentication-Results', () => {
  it('Gmail: DMARC pass for the From domain authenticates it', () => {
    const result = verdict('gmail', 'Alice@Example.com', [GOOGLE_PASS]);
    assert.equal(result.authenticated, true);
    assert.equal(result.reason, 'dmarc_pass');
    assert.deepEqual(result.dmarc, [{ result: 'pass', domain: 'example.com', policy: 'reject' }]);
    assert.deepEqual(result.spf, [{ result: 'pass', domain: 'mail.example.com' }]);
    assert.deepEqual(result.dkim, [{ result: 'pass', domain: 'example.com' }]);
  });

  it('Microsoft: EOP’s header (no authserv-id) with DMARC pass authenticates the From domain', () => {
    const result = verdict('outlook', 'dana@contoso.com', [MICROSOFT_PASS]);
    assert.deepEqual([result.authenticated, result.reason], [true, 'dmarc_pass']);
  });

  it('a DMARC failure is not authenticated, even with SPF passing for another domain', () => {
    const result = verdict('gmail', 'cameron@cooalliance.com', [GOOGLE_DMARC_FAIL]);
    assert.deepEqual([result.authenticated, result.reason], [false, 'dmarc_fail']);
  });

  it('a DMARC pass for another domain than the From address is not authenticated', () => {
    assert.equal(verdict('gmail', 'ceo@bank.example', [GOOGLE_PASS]).reason, 'dmarc_other_domain');
  });

  it('no DMARC policy: an aligned SPF or DKIM pass authenticates, an unaligned one does not', () => {
    const spfOnly = 'mx.google.com; spf=pass smtp.mailfrom=bounce@news.shop.example; dmarc=none header.from=shop.example';
    assert.equal(verdict('gmail', 'sales@shop.example', [spfOnly]).reason, 'aligned_spf');
    const dkimOnly = 'mx.google.com; dkim=pass header.i=@shop.example; spf=softfail smtp.mailfrom=x@esp.example';
    assert.equal(verdict('gmail', 'sales@shop.example', [dkimOnly]).reason, 'aligned_dkim');
    const unaligned = 'mx.google.com; dkim=pass header.d=esp.example; spf=pass smtp.mailfrom=x@esp.example; dmarc=none header.from=shop.example';
    assert.deepEqual([verdict('gmail', 'sales@shop.example', [unaligned]).authenticated, verdict('gmail', 'sales@shop.example', [unaligned]).reason], [false, 'not_aligned']);
    const psl = 'mx.google.com; dkim=pass header.d=evil.co.uk; dmarc=none header.from=victim.co.uk';
    assert.equal(verdict('gmail', 'boss@victim.co.uk', [psl]).authenticated, false);
  });

  it('Microsoft’s bestguesspass (no DMARC record) falls back to alignment, checked by us', () => {
    assert.deepEqual([verdict('outlook', 'no-reply@domain.com', [MICROSOFT_BESTGUESS]).authenticated, verdict('outlook', 'no-reply@domain.com', [MICROSOFT_BESTGUESS]).reason], [true, 'aligned_dkim']);
    assert.equal(verdict('outlook', 'someone@mydomain.com', [MICROSOFT_TEMPERROR]).authenticated, false);
  });

  it('temperror and permerror of DMARC are not authenticated (fail closed)', () => {
    for (const result of ['temperror', 'permerror']) {
      const header = `mx.google.com; dkim=pass header.d=shop.example; dmarc=${result} header.from=shop.example`;
      assert.deepEqual([verdict('gmail', 'a@shop.example', [header]).authenticated, verdict('gmail', 'a@shop.example', [header]).reason], [false, 'dmarc_error']);
    }
  });

  it('a forged header below the provider’s is ignored: the topmost of the provider’s form wins', () => {
    const forged = 'mx.google.com; dmarc=pass header.from=cooalliance.com';
    assert.equal(verdict('gmail', 'cameron@cooalliance.com', [GOOGLE_DMARC_FAIL, forged]).authenticated, false);
    const forgedMicrosoft = 'spf=pass smtp.mailfrom=bank.example; dmarc=pass action=none header.from=bank.example';
    const real = 'spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=bank.example; dkim=none (message not signed) header.d=none;dmarc=fail action=oreject header.from=bank.example;compauth=fail reason=000';
    assert.equal(verdict('outlook', 'ceo@bank.example', [real, forgedMicrosoft]).reason, 'dmarc_fail');
  });

  it('only the receiving provider’s header counts: another server’s, or the other provider’s form, is not trusted', () => {
    const otherServer = 'relay.example.net; dmarc=pass header.from=example.com';
    assert.equal(verdict('gmail', 'alice@example.com', [otherServer]).reason, 'no_trusted_header');
    assert.equal(verdict('outlook', 'alice@example.com', [GOOGLE_PASS]).reason, 'no_trusted_header');
    assert.equal(verdict('gmail', 'dana@contoso.com', [MICROSOFT_PASS]).reason, 'no_trusted_header');
    assert.equal(verdict('gmail', 'alice@example.com', [otherServer, GOOGLE_PASS]).reason, 'dmarc_pass');
  });

  it('a missing or malformed header, or an unusable From address, is not authenticated', () => {
    assert.equal(verdict('gmail', 'alice@example.com', []).reason, 'no_trusted_header');
    assert.equal(verdict('gmail', 'alice@example.com', ['mx.google.com; dmarc=pass (unclosed header.from=example.com']).reason, 'no_trusted_header');
    assert.equal(verdict('gmail', null, [GOOGLE_PASS]).reason, 'no_sender');
    assert.equal(verdict('gmail', 'not an address', [GOOGLE_PASS]).reason, 'no_sender');
  });

  it('duplicated DMARC results must all pass for the From domain', () => {
    const duplicated = 'mx.google.com; dmarc=pass header.from=example.com; dmarc=fail header.from=example.com';
    assert.equal(verdict('gmail', 'a@example.com', [duplicated]).authenticated, false);
    const twoDomains = 'mx.google.com; dmarc=pass header.from=example.com; dmarc=pass header.from=evil.example';
    assert.equal(verdict('gmail', 'a@example.com', [twoDomains]).reason, 'dmarc_other_domain');
  });
});
