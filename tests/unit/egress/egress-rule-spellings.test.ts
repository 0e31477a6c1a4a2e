// Allow-list rules and CONNECT targets as operators and agents spell them: IP literals compare as addresses,
// not as text (the same address written two ways matches, a different one never does), and a wildcard
// spans no more than the names below one domain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectTarget } from '../../../orchestrator/src/adapters/egress-proxy/connect-target.ts';
import { decideEgress, egressAddressAllowed, parseEgressRule, type EgressAllowList } from '../../../orchestrator/src/domain/egress-allow-list.ts';

const allowed = (list: EgressAllowList, authority: string): boolean => {
  const target = parseConnectTarget(authority);
  assert.notEqual(target, null, authority);
  return target !== null && decideEgress(list, target).allow;
};

void test('an IPv6 rule admits its address however the CONNECT spells it, and that address only', () => {
  const list = [parseEgressRule('[2001:0DB8:0:0::1]:8443')];
  assert.deepEqual(list[0], { host: '2001:db8::1', port: 8443 });
  for (const spelling of ['[2001:db8::1]:8443', '[2001:0db8:0000:0000:0000:0000:0000:0001]:8443', '[2001:DB8::0:1]:8443']) {
    assert.equal(allowed(list, spelling), true, spelling);
  }
  for (const other of ['[2001:db8::2]:8443', '[2001:db8::1:0]:8443', '[2001:db8::1]:443']) assert.equal(allowed(list, other), false, other);
  assert.equal(egressAddressAllowed(list[0]!, '2001:0db8::1'), true);
  assert.equal(egressAddressAllowed(list[0]!, '2001:db8::2'), false);
});

void test('an IPv4-mapped literal is the IPv4 address it reaches, as a rule and as a target', () => {
  const mappedRule = [parseEgressRule('[::ffff:7f00:1]:8025')];
  const plainRule = [parseEgressRule('127.0.0.1:8025')];
  for (const list of [mappedRule, plainRule]) {
    for (const spelling of ['127.0.0.1:8025', '[::ffff:127.0.0.1]:8025', '[::FFFF:7F00:1]:8025', '[0:0:0:0:0:ffff:7f00:1]:8025']) {
      assert.equal(allowed(list, spelling), true, spelling);
    }
    // Another address, the IPv4-compatible form (a different IPv6 address) and the IPv6 loopback stay out.
    for (const other of ['127.0.0.2:8025', '[::ffff:127.0.0.2]:8025', '[::127.0.0.1]:8025', '[::1]:8025']) assert.equal(allowed(list, other), false, other);
    assert.equal(egressAddressAllowed(list[0]!, '::ffff:127.0.0.1'), true);
    assert.equal(egressAddressAllowed(list[0]!, '127.0.0.2'), false);
  }
});

void test('a rule built without parsing still compares by address', () => {
  const list: EgressAllowList = [{ host: '2001:DB8:0::1', port: 443 }];
  assert.equal(allowed(list, '[2001:db8::1]:443'), true);
  assert.equal(egressAddressAllowed(list[0]!, '2001:db8::1'), true);
});

void test('brackets hold IPv6 as written, and a zone index is no literal of a rule', () => {
  assert.equal(parseConnectTarget('[127.0.0.1]:443'), null);
  assert.throws(() => parseEgressRule('[10.0.0.1]:443'), /must be host\[:port\]/);
  assert.throws(() => parseEgressRule('[fe80::1%eth0]:443'), /must be host\[:port\]/);
  assert.throws(() => parseEgressRule('::1'), /must be host\[:port\]/);
  // Nor does a zone index in a rule built without parsing match anything, a zoned address included.
  assert.equal(egressAddressAllowed({ host: 'fe80::1%eth0', port: 443 }, 'fe80::1%eth0'), false);
});

void test('a wildcard never spans a whole top-level domain, localhost included', () => {
  for (const entry of ['*.com', '*.localhost', '*.localhost:8025', '*.LOCALHOST.']) {
    assert.throws(() => parseEgressRule(entry), /must be host\[:port\]/, entry);
  }
  assert.deepEqual(parseEgressRule('*.example.com'), { host: '*.example.com', port: 443 });
  assert.deepEqual(parseEgressRule('localhost:8025'), { host: 'localhost', port: 8025 });
});
