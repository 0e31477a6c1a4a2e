// Which client network a peer's address lies in: read from the peer's address text once per connection,
// strictly (a peer address is input like any other), and compared as numbers against each network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, ipv4Value, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';

void test('only a dotted-quad IPv4 address has a value; anything else is null, never an exception', () => {
  assert.equal(ipv4Value('10.213.0.2'), 10 * 2 ** 24 + 213 * 2 ** 16 + 2);
  assert.equal(ipv4Value('255.255.255.255'), 2 ** 32 - 1);
  assert.equal(ipv4Value('0.0.0.0'), 0);
  for (const text of ['', '10.213.0.2/32', ' 10.213.0.2', '010.213.0.2', '10.213.0', '10.213.0.256', '::1', '::ffff:10.213.0.2', '0x0a.0.0.1', 'localhost']) {
    assert.equal(ipv4Value(text), null, JSON.stringify(text));
  }
});

void test('a network holds the addresses from its base through its last, and none beside it', () => {
  const network = parseIpv4Cidr('10.213.0.8/29');
  const at = (text: string) => cidrContains(network, ipv4Value(text) ?? -1);
  for (const inside of ['10.213.0.8', '10.213.0.9', '10.213.0.15']) assert.equal(at(inside), true, inside);
  for (const outside of ['10.213.0.7', '10.213.0.16', '10.214.0.9']) assert.equal(at(outside), false, outside);
  assert.equal(cidrContains(parseIpv4Cidr('0.0.0.0/0'), ipv4Value('255.255.255.255') ?? -1), true);
});
