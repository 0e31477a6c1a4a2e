import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAuthenticationResults } from '../../../agent-image/src/domain/sender-authentication/authentication-results.ts';
import { GOOGLE_PASS, MICROSOFT_BESTGUESS, MICROSOFT_PASS, MICROSOFT_TEMPERROR } from './header-samples.ts';

describe('Authentication-Results parser', () => {
  it('reads Google’s header: authserv-id, each method with its domains and DMARC’s policy comment', () => {
    const parsed = parseAuthenticationResults(GOOGLE_PASS);
    assert.equal(parsed?.authservId, 'mx.google.com');
    assert.deepEqual(parsed?.results.map((r) => [r.method, r.result]), [['dkim', 'pass'], ['spf', 'pass'], ['dmarc', 'pass']]);
    assert.deepEqual(parsed?.results[0]?.properties, { 'header.i': '@example.com', 'header.s': '20230601', 'header.b': 'Ab3/xY+z' });
    assert.equal(parsed?.results[1]?.properties['smtp.mailfrom'], 'bounce@mail.example.com');
    assert.match(parsed?.results[1]?.comments[0] ?? '', /designates 192\.0\.2\.1/);
    assert.deepEqual(parsed?.results[2]?.comments, ['p=REJECT sp=REJECT dis=NONE']);
    assert.equal(parsed?.results[2]?.properties['header.from'], 'example.com');
  });

  it('reads Microsoft’s header, which has no authserv-id, with action, compauth and its reason', () => {
    const parsed = parseAuthenticationResults(MICROSOFT_PASS);
    assert.equal(parsed?.authservId, null);
    assert.deepEqual(parsed?.results.map((r) => `${r.method}=${r.result}`), ['spf=pass', 'dkim=pass', 'dmarc=pass', 'compauth=pass']);
    assert.equal(parsed?.results[1]?.properties['header.d'], 'contoso.com');
    assert.deepEqual(parsed?.results[2]?.properties, { action: 'none', 'header.from': 'contoso.com' });
    assert.equal(parsed?.results[3]?.reason, '100');
  });

  it('skips Exchange’s bare domains between results and keeps empty values empty', () => {
    const bestGuess = parseAuthenticationResults(MICROSOFT_BESTGUESS);
    assert.deepEqual(bestGuess?.results.map((r) => `${r.method}=${r.result}`), ['spf=fail', 'dkim=pass', 'dmarc=bestguesspass']);
    const temp = parseAuthenticationResults(MICROSOFT_TEMPERROR);
    assert.deepEqual(temp?.results.map((r) => `${r.method}=${r.result}`), ['spf=temperror', 'dkim=none', 'dmarc=none']);
    assert.equal(temp?.results[2]?.properties['header.from'], '');
  });

  it('reads the RFC 8601 forms: version, "none", quoted values, reason=, method versions and spaced "="', () => {
    assert.deepEqual(parseAuthenticationResults('example.org 1; none'), { authservId: 'example.org', results: [] });
    const spaced = parseAuthenticationResults('mail-router.example.net; dkim = pass (good signature) header.d = newyork.example.com header.b = "oINEO8hg"');
    assert.equal(spaced?.results[0]?.properties['header.d'], 'newyork.example.com');
    assert.equal(spaced?.results[0]?.properties['header.b'], 'oINEO8hg');
    const reasoned = parseAuthenticationResults('example.com; dkim/1=fail reason="bad signature" header.i=@mail-router.example.net');
    assert.deepEqual([reasoned?.results[0]?.method, reasoned?.results[0]?.reason], ['dkim', 'bad signature']);
    assert.equal(parseAuthenticationResults('"quoted.example"; spf=pass smtp.mailfrom=a.example')?.authservId, 'quoted.example');
  });

  it('refuses malformed values instead of guessing: empty, oversized, unclosed comment or quote, junk id', () => {
    for (const value of ['', ' ', 'mx.google.com (unclosed; dmarc=pass header.from=a.example', 'mx.google.com; dmarc=pass header.from="a.example', 'a b c; dmarc=pass', 'x'.repeat(20_000)]) {
      assert.equal(parseAuthenticationResults(value), null, JSON.stringify(value.slice(0, 40)));
    }
  });

  it('drops a result that does not parse but keeps the well-formed ones', () => {
    const parsed = parseAuthenticationResults('mx.google.com; dmarc pass header.from=a.example; spf=pass smtp.mailfrom=a.example; dkim=pass header.d=a.example junk');
    assert.deepEqual(parsed?.results.map((r) => r.method), ['spf']);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom(GOOGLE_PASS, MICROSOFT_PASS, ''), (noise, base) => {
        const parsed = parseAuthenticationResults(base + noise);
        if (parsed !== null) assert.ok(parsed.results.every((result) => /^[a-z0-9_.-]+$/.test(result.method) && /^[a-z0-9_-]+$/.test(result.result)));
      }),
      { numRuns: 500 },
    );
  });
});
