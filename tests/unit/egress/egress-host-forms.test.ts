// CONNECT targets and allow-list entries in the odd forms a hostile agent (or a careless operator) writes,
// and the addresses an allowed name may lead to.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectTarget } from '../../../orchestrator/src/adapters/egress-proxy/connect-target.ts';
import { decideEgress, egressAddressAllowed, parseEgressRule } from '../../../orchestrator/src/domain/egress-allow-list.ts';

void test('a name that resolvers read as an IPv4 address (short, octal, hex or decimal form) is neither a name nor a literal', () => {
  for (const host of ['127.1', '0x7f.1', '0177.0.0.1', '0x7f000001', '10.0.1', '1.2.3.4.5', 'evil.example.0x10', 'a.b.255']) {
    assert.equal(parseConnectTarget(`${host}:443`), null, host);
    assert.throws(() => parseEgressRule(host), /must be host\[:port\]/, host);
  }
  // A wildcard cannot be stretched over numeric-looking names either.
  assert.throws(() => parseEgressRule('*.0.1'), /must be host\[:port\]/);
  assert.equal(decideEgress([{ host: '*.0.1', port: 443 }], { host: '0x7f.0.1', port: 443 }).allow, false);
  // Real names and literals still pass, in any case and with a trailing dot.
  assert.deepEqual(parseConnectTarget('GMAIL.googleapis.com.:443'), { host: 'gmail.googleapis.com', port: 443 });
  assert.deepEqual(parseConnectTarget('rest91.bullhornstaffing.com:443'), { host: 'rest91.bullhornstaffing.com', port: 443 });
  assert.deepEqual(parseConnectTarget('127.0.0.1:443'), { host: '127.0.0.1', port: 443 });
  assert.deepEqual(parseConnectTarget('[::ffff:127.0.0.1]:443'), { host: '127.0.0.1', port: 443 }, 'an IPv4-mapped literal is the IPv4 address it reaches');
  assert.equal(parseConnectTarget('[fe80::1%25eth0]:443'), null, 'no zone ids');
});

void test('a name rule leads only to public addresses; loopback, private, link-local and embedded-IPv4 forms are refused', () => {
  const name = parseEgressRule('api.anthropic.com');
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700::1111', '2a00:1450:4001::200e']) {
    assert.equal(egressAddressAllowed(name, address), true, address);
  }
  const refused = [
    '127.0.0.1', '127.255.0.9', '0.0.0.0', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '100.64.0.1', '169.254.169.254',
    '192.0.0.170', '198.18.0.1', '224.0.0.1', '255.255.255.255', '::', '::1', '::127.0.0.1', '::ffff:127.0.0.1', '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe', '2002:7f00:1::', '2001:0:4136:e378::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'ff02::1', 'not-an-address',
  ];
  for (const address of refused) assert.equal(egressAddressAllowed(name, address), false, address);
  const wildcard = parseEgressRule('*.bullhornstaffing.com');
  assert.equal(egressAddressAllowed(wildcard, '169.254.169.254'), false);
  assert.equal(egressAddressAllowed(parseEgressRule('foo.localhost'), '127.0.0.1'), false, 'only the name localhost itself is loopback');
});

void test('a rule that pins the address reaches it: an IP literal exactly, localhost on loopback only', () => {
  assert.equal(egressAddressAllowed(parseEgressRule('10.0.0.5:8080'), '10.0.0.5'), true);
  assert.equal(egressAddressAllowed(parseEgressRule('10.0.0.5:8080'), '10.0.0.6'), false);
  const localhost = parseEgressRule('localhost:8025');
  assert.equal(egressAddressAllowed(localhost, '127.0.0.1'), true);
  assert.equal(egressAddressAllowed(localhost, '::1'), true);
  assert.equal(egressAddressAllowed(localhost, '10.0.0.1'), false);
  assert.equal(egressAddressAllowed(localhost, '169.254.169.254'), false);
});
