import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { domainToASCII } from 'node:url';
import fc from 'fast-check';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { linkIn } from '../../../agent-image/src/domain/policy/link-host.ts';
import { MAX_EVENT_DESCRIPTION } from '../../../agent-image/src/domain/scheduling/event-limits.ts';
import { config, decideInvite, inviteWith, NOW, state } from './fixtures.ts';
import { assertLinearWork } from './work-meter.ts';

const reasons = (description: string) => decideInvite(description).reasons;

describe('hosts written in another script than ASCII are links', () => {
  it('finds a host whose labels are all outside ASCII, under a Latin or a non-Latin suffix', () => {
    // Every one is what a browser opens: its punycode form is a registrable name.
    for (const host of ['пример.рф', 'вход-банк.com', 'παράδειγμα.ελ', '例子.中国', 'пример.com']) {
      assert.notEqual(domainToASCII(host), '', host);
      assert.equal(linkIn(`Sign in at ${host}/login before the call`), domainToASCII(host), host);
    }
  });

  it('holds an invitation to a known contact whose description names a look-alike host in Cyrillic letters', () => {
    // "аррӏе.com": every letter Cyrillic, read as a well-known Latin name.
    assert.deepEqual(reasons('Please confirm your account on \u0430\u0440\u0440\u04cf\u0435.com/verify first'), ['free_text']);
    assert.deepEqual(reasons('Notes: пример.рф'), ['free_text']);
  });

  it('reads the host as a reader’s client folds it: full-width dots and invisible characters', () => {
    assert.equal(linkIn('see пример\uFF0Eрф'), 'xn--e1afmkfd.xn--p1ai');
    assert.equal(linkIn('see при\u200Bмер.рф'), 'xn--e1afmkfd.xn--p1ai');
  });

  it('skips the domain of an email address, as it does an ASCII one, and prose with no host', () => {
    for (const text of ['Write to иван@пример.рф about it', 'Встреча в 10. Потом обед.', 'Grüße, Jürgen. Bis Montag.', 'v1.2 ändert nichts']) {
      assert.equal(linkIn(text), undefined, text);
    }
    // Not a link: held, but for the address of someone the client does not know (sent-text-content.ts).
    const decision = decideInvite('Write to иван@пример.рф about the agenda.');
    assert.deepEqual(decision.reasons, ['free_text']);
    assert.ok(decision.details?.every((detail) => !detail.includes('link')), JSON.stringify(decision.details));
  });

  it('never misses a registrable international host, whatever prose surrounds it', () => {
    const word = fc.stringMatching(/^[a-zа-я]{1,12}$/);
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), fc.array(word, { maxLength: 5 }), fc.stringMatching(/^[а-я]{2,12}$/), fc.constantFrom('com', 'рф', 'org', 'рус'), (before, after, label, suffix) => {
        const host = `${label}.${suffix}`;
        const ascii = domainToASCII(host);
        fc.pre(ascii !== '');
        assert.notEqual(linkIn(`${before.join(' ')} ${host}/x ${after.join(' ')}`), undefined, host);
      }),
    );
  });

  it('decides a long run of non-ASCII letters and dots in work linear in its length', () => {
    const gateConfig = config();
    const gateState = state();
    for (const unit of ['а.', 'а', 'ф.рф', '.']) {
      const text = (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
      assertLinearWork(`linkIn ${unit}`, (size) => () => linkIn(text(size)), MAX_EVENT_DESCRIPTION / 2);
      assertLinearWork(`invitation ${unit}`, (size) => () => evaluatePolicy(inviteWith(text(size)), gateConfig, gateState, NOW), MAX_EVENT_DESCRIPTION / 2);
    }
  });
});
