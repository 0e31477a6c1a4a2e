import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { linkIn } from '../../../agent-image/src/domain/policy/link-host.ts';
import { compileShortenerDetector } from '../../../agent-image/src/domain/policy/url-shortener.ts';
import { MAX_EVENT_DESCRIPTION } from '../../../agent-image/src/domain/scheduling/event-limits.ts';
import { asReply, config, NOW, send, state } from './fixtures.ts';
import { assertLinearWork } from './work-meter.ts';

const detector = compileShortenerDetector();
// A send is decided as the reply to its first recipient, so only the link rules hold it.
const reasons = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW, asReply(action)).reasons;
const invite = (description: string) => ({
  kind: 'calendar.write',
  operation: 'create',
  title: 'Notes for meeting today',
  start: '2025-06-02T16:00:00Z',
  participants: ['bob@partner.com'],
  description,
});

describe('links whose host is written with characters a browser drops or decodes', () => {
  it('finds a shortener split by an invisible character the URL parser drops (soft hyphen, zero-width space, word joiner, BOM)', () => {
    for (const host of ['bit\u00AD.ly', 'b\u200Bit.ly', 'bit.l\u2060y', 'tiny\uFEFFurl.com', 'bit\u034F.ly']) {
      // What the browser opens: the invisible character is gone from the host.
      assert.match(new URL(`https://${host}/3xYz`).hostname, /^(bit\.ly|tinyurl\.com)$/, JSON.stringify(host));
      for (const body of [`see https://${host}/3xYz`, `see //${host}/3xYz`]) {
        assert.notEqual(detector.find([], body), undefined, JSON.stringify(body));
        // A known contact and free text the client opted in to: only the link holds it, as a shortener and as a link
        // outside the client's and the recipient's domains.
        assert.deepEqual(reasons(send({ body })), ['free_text', 'url_shortener'], JSON.stringify(body));
      }
    }
  });

  it('finds a shortener whose host hides a dot or a character in percent-encoded UTF-8', () => {
    for (const link of ['https://bit%E3%80%82ly/3xYz', 'https://bit.l%C2%ADy/3xYz', 'https://bit%E2%80%8B.ly/x']) {
      assert.equal(new URL(link).hostname, 'bit.ly', link);
      assert.equal(detector.find([link], ''), 'bit.ly', link);
      assert.deepEqual(reasons(send({ links: [link] })), ['free_text', 'url_shortener'], link);
    }
  });

  it('finds a host spelt with HTML character references, as HTML calendar text shows it', () => {
    assert.equal(detector.find([], 'see bit&#46;ly/x'), 'bit.ly');
    assert.equal(detector.find([], 'see bit&#x2E;ly/x or bit&period;ly/y'), 'bit.ly');
    assert.equal(linkIn('notes at acme-notes-login&#46;com/today'), 'acme-notes-login.com');
  });

  it('holds an invitation whose text carries a link in markup or a URL with no host', () => {
    for (const description of [
      'Notes: //acme-notes-login\u00AD.com/today',
      'Notes: <a href="//acme-notes-login&#46;com/x">here</a>',
      '<a href=notes>agenda</a>',
      'Open data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
      'Click javascript:fetch(1)',
    ]) {
      assert.deepEqual(reasons(invite(description)), ['free_text'], description);
    }
  });

  it('still reads an invisible character as a break, never joining a link to the address before it', () => {
    assert.equal(detector.find([], 'write to me@partner.com\u200Bbit.ly/x'), 'bit.ly');
  });

  it('lets ordinary text with invisible characters, ampersands and the word data through', () => {
    for (const description of ['R&D review\u00AD, Q3 data: revenue & costs', 'Bring the data, e.g. v1.2; AT&T call at 12.30', 'Ask bob@partner.com\u200B about it']) {
      assert.equal(linkIn(description), undefined, description);
      assert.deepEqual(reasons(invite(description)), ['auto_send'], description);
    }
  });

  it('decides hostile text full of references, escapes and invisible characters in work linear in its length', () => {
    const gateConfig = config();
    const gateState = state();
    for (const unit of ['a\u00ADb ', '&#46;', '%C2%AD', '%C2', `data:${';a'.repeat(50)}`]) {
      const text = (size: number) => unit.repeat(Math.floor(size / unit.length));
      assert.equal(linkIn(text(400_000)), undefined, unit);
      // An invitation's text is at most what the calendar takes (a longer one is refused as proposed).
      assert.deepEqual(reasons(invite(text(MAX_EVENT_DESCRIPTION))), ['auto_send'], unit);
      assertLinearWork(`linkIn ${JSON.stringify(unit)}`, (size) => () => linkIn(text(size)), 200_000);
      assertLinearWork(`invitation ${JSON.stringify(unit)}`, (size) => () => evaluatePolicy(invite(text(size)), gateConfig, gateState, NOW), MAX_EVENT_DESCRIPTION / 2);
    }
  });
});
