import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { compileShortenerDetector } from '../../../agent-image/src/domain/policy/url-shortener.ts';
import { asReply, config, NOW, send, state } from './fixtures.ts';
import { assertLinearWork } from './work-meter.ts';

const detector = compileShortenerDetector();
// A send is decided as the reply to its first recipient, so only the link rules hold it.
const reasons = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW, asReply(action)).reasons;

describe('URL shorteners: hosts written the way a browser still reads them', () => {
  it('finds a shortener behind the user info of a URL', () => {
    assert.equal(detector.find([], 'see https://partner.com@bit.ly/x'), 'bit.ly');
    assert.equal(detector.find(['https://user:secret@tinyurl.com/abc'], ''), 'tinyurl.com');
    // Its user info reads as an address too (free-text-content.ts): the shortener is among the reasons.
    assert.ok(reasons(send({ body: 'Details: https://docs.partner.com@bit.ly/3xYz' })).includes('url_shortener'));
  });

  it('finds a shortener whose user info holds characters an address could start after', () => {
    // Each of these opens bit.ly in a browser: everything before the last @ of the authority is user info.
    for (const url of ['https://partner.com,x@bit.ly/3xYz', 'https://a(b@bit.ly/x', 'https://x;y@bit.ly/x', 'https://user:pa[ss@bit.ly/x', 'https://bob@partner.com,c@bit.ly/x', 'https:///x"y@bit.ly/x', 'https:\\\\x<y@bit.ly/x']) {
      assert.equal(new URL(url).host, 'bit.ly', url);
      assert.equal(detector.find([], `Details: ${url}`), 'bit.ly', url);
      assert.ok(reasons(send({ body: `Details: ${url}` })).includes('url_shortener'), url);
    }
  });

  it('still reads an address after a comma as an address when no URL holds it', () => {
    assert.equal(detector.find([], 'cc: bob@partner.com,someone@bit.ly and see https://partner.com/a,b@bit.ly'), undefined);
  });

  it('finds a shortener written with full-width letters, ideographic full stops or percent-encoding', () => {
    for (const body of ['see https://ｂｉｔ.ｌｙ/abc', 'see https://bit。ly/abc', 'see https://bit｡ly/abc', 'see https://bit%2Ely/abc', 'see https://%62it.ly/abc']) {
      assert.notEqual(detector.find([], body), undefined, body);
      assert.deepEqual(reasons(send({ body })), ['free_text', 'url_shortener'], body);
    }
  });

  it('still passes over the domain of an email address, plain or as mailto:', () => {
    assert.equal(detector.find([], 'mail me at someone@bit.ly. Or mailto:someone@t.co, <x.y@bit.ly>'), undefined);
    assert.deepEqual(reasons(send({ body: 'Write to ｃａｒｏｌ@partner.com, 100% sure.' })), ['auto_send']);
  });

  it('decides hostile runs of host characters in work linear in their length and number', () => {
    const links = (count: number, length: number) => Array.from({ length: count }, () => 'a.'.repeat(length / 2));
    const body = (runs: number, length: number) => `${'a.'.repeat(length / 2)} `.repeat(runs);
    assert.deepEqual(reasons(send({ links: links(1000, 8192) })), ['auto_send']);
    assert.deepEqual(reasons(send({ body: body(600, 16_000) })), ['auto_send']);
    // Longer runs (a host is read only by its last labels) and more of them (each read once).
    assertLinearWork('one long link', (size) => () => detector.find(links(1, size), ''), 4096);
    assertLinearWork('many links', (size) => () => detector.find(links(size / 8192, 8192), ''), 100 * 8192);
    assertLinearWork('one long run in the body', (size) => () => detector.find([], body(1, size)), 8000);
    assertLinearWork('many runs in the body', (size) => () => detector.find([], body(size / 16_000, 16_000)), 100 * 16_000);
  });
});
