import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authenticateSender, type MailProviderKind } from '../../../agent-image/src/domain/sender-authentication/sender-verdict.ts';

const verdict = (provider: MailProviderKind, fromAddress: string, headers: string[]) =>
  authenticateSender({ provider, fromAddress, authenticationResults: headers }).reason;

// A passing verdict the sender wrote into its own message, below the provider's real header.
const FORGED_GOOGLE = 'mx.google.com; dkim=pass header.i=@client.example; spf=pass smtp.mailfrom=ceo@client.example; dmarc=pass (p=REJECT) header.from=client.example';
const FORGED_MICROSOFT = 'spf=pass smtp.mailfrom=client.example; dmarc=pass action=none header.from=client.example';

describe('sender authentication: the provider’s header that does not parse is not skipped', () => {
  it('Gmail: sender-controlled text that breaks Google’s header leaves the sender unauthenticated, never the forged copy below', () => {
    const unbalancedQuote = 'mx.google.com; dkim=neutral (body hash did not verify) header.i=@evil"x.example header.s=s1; dmarc=fail (p=REJECT) header.from=client.example';
    const unbalancedParen = 'mx.google.com; spf=pass (google.com: domain of "x(y"@evil.example designates 192.0.2.1 as permitted sender) smtp.mailfrom="x(y"@evil.example; dmarc=fail (p=REJECT) header.from=client.example';
    const tooManyResults = `mx.google.com; ${Array.from({ length: 70 }, (_, i) => `dkim=pass header.i=@evil${i}.example`).join('; ')}; dmarc=fail header.from=client.example`;
    const oversized = `mx.google.com; dkim=neutral header.i=@${'a'.repeat(17_000)}.example; dmarc=fail header.from=client.example`;
    for (const real of [unbalancedQuote, unbalancedParen, tooManyResults, oversized]) {
      assert.equal(verdict('gmail', 'ceo@client.example', [real, FORGED_GOOGLE]), 'no_trusted_header');
    }
  });

  it('Microsoft: an unparseable EOP header leaves the sender unauthenticated, never the forged copy below', () => {
    const real = 'spf=fail (sender IP is 192.0.2.9) smtp.mailfrom=client.example; dkim=fail header.d="evil.example;dmarc=fail action=none header.from=client.example';
    assert.equal(verdict('outlook', 'ceo@client.example', [real, FORGED_MICROSOFT]), 'no_trusted_header');
  });

  it('headers of other servers above the provider’s are still passed over', () => {
    const other = 'relay.example.net; dmarc=pass (unclosed header.from=client.example';
    const google = 'mx.google.com; dmarc=pass (p=REJECT) header.from=client.example';
    assert.equal(verdict('gmail', 'ceo@client.example', [other, google]), 'dmarc_pass');
  });
});

describe('sender authentication: the provider must have judged the same From address', () => {
  it('a "no policy" DMARC result for another From domain does not fall back to SPF/DKIM alignment with ours', () => {
    // `From: <ceo@client.example> <x@attacker.example>`: read here as client.example, by the provider as
    // attacker.example (no DMARC record); SPF passes for client.example through a shared sending service.
    const header = 'mx.google.com; spf=pass smtp.mailfrom=bounce@client.example; dkim=pass header.i=@client.example; dmarc=none header.from=attacker.example';
    assert.equal(verdict('gmail', 'ceo@client.example', [header]), 'dmarc_other_domain');
    const microsoft = 'spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=client.example; dkim=none header.d=none;dmarc=bestguesspass action=none header.from=attacker.example';
    assert.equal(verdict('outlook', 'ceo@client.example', [microsoft]), 'dmarc_other_domain');
  });

  it('the same result for the From domain itself, or with no domain, still falls back to alignment', () => {
    const own = 'mx.google.com; spf=pass smtp.mailfrom=bounce@client.example; dmarc=none header.from=client.example';
    assert.equal(verdict('gmail', 'ceo@client.example', [own]), 'aligned_spf');
    const empty = 'spf=pass smtp.mailfrom=client.example; dmarc=none action=none header.from=;';
    assert.equal(verdict('outlook', 'ceo@client.example', [empty]), 'aligned_spf');
  });
});
