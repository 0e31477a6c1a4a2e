// Internationalised egress rules: an operator may write `*.bücher.de` or `mañana.com`; the rule is kept in
// the ASCII (punycode) form that every CONNECT carries, and a target matches it however its case and
// trailing dot are written. What does not convert, or converts to something else than was written, is
// refused; so is a label that mixes look-alike scripts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectTarget } from '../../../orchestrator/src/adapters/egress-proxy/connect-target.ts';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { decideEgress, fqdnAllowHosts, parseEgressRule, type EgressAllowList } from '../../../orchestrator/src/domain/egress-allow-list.ts';

const allowed = (list: EgressAllowList, authority: string): boolean => {
  const target = parseConnectTarget(authority);
  assert.notEqual(target, null, authority);
  return target !== null && decideEgress(list, target).allow;
};

void test('a Unicode rule is kept in its punycode form, wildcard, port and trailing dot as written', () => {
  assert.deepEqual(parseEgressRule('*.bücher.de'), { host: '*.xn--bcher-kva.de', port: 443 });
  assert.deepEqual(parseEgressRule('mañana.com'), { host: 'xn--maana-pta.com', port: 443 });
  assert.deepEqual(parseEgressRule('MAÑANA.COM.:8443'), { host: 'xn--maana-pta.com', port: 8443 });
  // The ideographic full stop is a dot to IDNA, a trailing one included.
  assert.deepEqual(parseEgressRule('bücher。de。'), { host: 'xn--bcher-kva.de', port: 443 });
  assert.deepEqual(parseEgressRule('пример.рф'), { host: 'xn--e1afmkfd.xn--p1ai', port: 443 });
});

void test('a CONNECT matches a Unicode rule in the ASCII form, any case, with or without a trailing dot', () => {
  const list = [parseEgressRule('*.bücher.de'), parseEgressRule('mañana.com')];
  for (const authority of ['shop.xn--bcher-kva.de:443', 'SHOP.XN--BCHER-KVA.DE.:443', 'xn--maana-pta.com:443', 'XN--MAANA-PTA.COM.:443']) {
    assert.equal(allowed(list, authority), true, authority);
  }
  // The wildcard spans the names below the domain, not the domain; the exact rule its own name and port only.
  for (const authority of ['xn--bcher-kva.de:443', 'shop.xn--bcher-kva.de:8443', 'www.xn--maana-pta.com:443', 'manana.com:443']) {
    assert.equal(allowed(list, authority), false, authority);
  }
  assert.deepEqual(fqdnAllowHosts(list), ['*.xn--bcher-kva.de', 'xn--maana-pta.com']);
});

void test('a Unicode rule that does not convert, or converts into another name or plain ASCII, is refused', () => {
  for (const entry of [
    'bü%63her.de', // the converter would decode %63 into the name
    'bü/cher.de', // ...and cut it at '/', '?' or '\'
    'evil.example?.bücher.de',
    'bü cher.de',
    'bü@cher.de',
    // Look-alike spellings of plain ASCII: an address, localhost (which reaches loopback) and a name.
    '１２７.０.０.１',
    'ｌｏｃａｌｈｏｓｔ:8025',
    '*.ⓔxample.com',
    'exa\u00admple.com',
    '*.ｅｘａｍｐｌｅ。１',
    '*．bücher.de',
    '＊.bücher.de',
    'bücher.de：443',
    '[bücher.de]:443',
    '\u200d.de',
  ]) {
    assert.throws(() => parseEgressRule(entry), /must be host\[:port\]/, entry);
  }
});

void test('an IDN label of symbols, or punycode that is not its own name, is refused naming the label', () => {
  assert.throws(() => parseEgressRule('💩.la'), /"💩\.la" is refused: label 💩 holds a character that is no letter/);
  assert.throws(() => parseEgressRule('xn--ls8h.la'), /label 💩 holds a character/);
  assert.throws(() => parseEgressRule('xn--zz.de'), /label xn--zz is not valid punycode/);
  // Punycode of a name that IDNA maps to another (the circled ⓔ is 'e'): two spellings of one rule.
  assert.throws(() => parseEgressRule('xn--xample-9e7c.com'), /is not valid punycode/);
});

void test('a label mixing Latin, Greek or Cyrillic letters is refused, in Unicode or punycode; one script, or Latin with CJK, is a rule', () => {
  for (const entry of ['аpple.com', 'xn--pple-43d.com', '*.gοogle.com', 'paypal.сom.example', 'αβгд.gr']) {
    assert.throws(() => parseEgressRule(entry), /mixes Latin, Greek or Cyrillic letters/, entry);
  }
  for (const entry of ['βόλος.gr', 'пример.рф', 'café.fr', 'ésta-bien.es', 'shop日本.jp', 'xn--bcher-kva.de']) {
    assert.doesNotThrow(() => parseEgressRule(entry), entry);
  }
});

void test('a Unicode wildcard on a public suffix is refused like its punycode form', () => {
  assert.throws(() => parseEgressRule('*.公司.cn'), /public suffix xn--55qx5d\.cn/);
});

void test('the configuration takes Unicode extra hosts in punycode and names a confusable one with why', () => {
  assert.deepEqual(loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: '*.bücher.de, mañana.com:8443' }).egress.extraRules, [
    { host: '*.xn--bcher-kva.de', port: 443 },
    { host: 'xn--maana-pta.com', port: 8443 },
  ]);
  assert.throws(() => loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: 'mañana.com, аpple.com' }), /FLEET_EGRESS_EXTRA_HOSTS: egress host "аpple\.com" is refused: label аpple mixes/);
});
