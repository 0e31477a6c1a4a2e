// A wildcard egress rule is for one organisation's names. On a public suffix (`*.co.uk`, `*.github.io`) it
// would admit every company registered there, so it is refused by name; so is a wildcard's match on a name
// that some other party registered under a public suffix lying inside the rule's domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { findEgressRule, parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';

void test('a wildcard on a public suffix of the ICANN section is refused, naming the rule and the suffix', () => {
  for (const [rule, suffix] of [
    ['*.co.uk', 'co.uk'],
    ['*.com.au', 'com.au'],
    ['*.CO.UK.', 'co.uk'],
    ['*.co.uk:8443', 'co.uk'],
    // 公司.cn, spelt as a CONNECT would spell it (punycode).
    ['*.xn--55qx5d.cn', 'xn--55qx5d.cn'],
  ] as const) {
    assert.throws(
      () => parseEgressRule(rule),
      (error: Error) => error.message.includes(JSON.stringify(rule)) && error.message.includes(`public suffix ${suffix}`),
      rule,
    );
  }
});

void test('a wildcard on a shared hosting suffix (the private section) is refused too', () => {
  for (const rule of ['*.github.io', '*.s3.amazonaws.com', '*.blogspot.com']) {
    assert.throws(() => parseEgressRule(rule), /public suffix/, rule);
  }
});

void test('a wildcard on one organisation\'s domain under a public suffix is still a rule', () => {
  assert.deepEqual(parseEgressRule('*.example.co.uk'), { host: '*.example.co.uk', port: 443 });
  assert.deepEqual(parseEgressRule('*.xn--e1afmkfd.xn--55qx5d.cn'), { host: '*.xn--e1afmkfd.xn--55qx5d.cn', port: 443 });
  assert.deepEqual(parseEgressRule('*.bullhornstaffing.com'), { host: '*.bullhornstaffing.com', port: 443 });
});

void test('an exact rule on a registry suffix is refused as no host, while a shared hosting service\'s own host is one', () => {
  assert.throws(() => parseEgressRule('co.uk'), /"co\.uk" is a public suffix/);
  assert.throws(() => parseEgressRule('xn--55qx5d.cn:443'), /is a public suffix/);
  assert.deepEqual(parseEgressRule('s3.amazonaws.com'), { host: 's3.amazonaws.com', port: 443 });
});

void test('a wildcard does not admit a name registered under a public suffix inside its domain', () => {
  const list = [parseEgressRule('*.amazonaws.com')];
  assert.ok(findEgressRule(list, 'sts.amazonaws.com', 443), 'a host of the domain\'s owner');
  for (const name of ['attacker-bucket.s3.amazonaws.com', 'ATTACKER-BUCKET.S3.AMAZONAWS.COM.', 'ec2-1-2-3-4.eu-west-1.compute.amazonaws.com']) {
    assert.equal(findEgressRule(list, name, 443), null, name);
  }
});

void test('the configuration names a public-suffix rule among the extra hosts and says why', () => {
  assert.throws(
    () => loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: 'api.example.org, *.co.uk' }),
    /FLEET_EGRESS_EXTRA_HOSTS: egress host "\*\.co\.uk" would admit every domain registered under the public suffix co\.uk/,
  );
  assert.throws(() => loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: 'a b, *.github.io' }), (error: Error) => /"a b" is not/.test(error.message) && /"\*\.github\.io"/.test(error.message));
  assert.doesNotThrow(() => loadConfig({ FLEET_EGRESS_EXTRA_HOSTS: '*.example.co.uk' }));
});

void test('names the list does not know are no public suffixes: localhost and internal names stay rules', () => {
  assert.deepEqual(parseEgressRule('localhost:8025'), { host: 'localhost', port: 8025 });
  assert.deepEqual(parseEgressRule('*.corp.internal'), { host: '*.corp.internal', port: 443 });
  assert.ok(findEgressRule([parseEgressRule('*.corp.internal')], 'mail.eu.corp.internal', 443));
});
