import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { allocateSubnet, cidrsOverlap, gatewayOf, parseIpv4Cidr } from '../../../orchestrator/src/domain/ipv4-cidr.ts';

const POOL = '10.213.0.0/16';

void test('the lowest free subnet of the pool is allocated first', () => {
  assert.equal(allocateSubnet(POOL, 28, []), '10.213.0.0/28');
  assert.equal(allocateSubnet(POOL, 28, ['10.213.0.0/28']), '10.213.0.16/28');
  assert.equal(allocateSubnet(POOL, 28, ['10.213.0.16/28']), '10.213.0.0/28', 'a gap is reused');
});

void test('taken networks of any size are skipped, including ones larger than the pool or partly inside it', () => {
  assert.equal(allocateSubnet(POOL, 28, ['10.213.0.0/24']), '10.213.1.0/28');
  assert.equal(allocateSubnet(POOL, 28, ['10.213.0.8/29']), '10.213.0.16/28', 'a /29 inside the first /28');
  assert.equal(allocateSubnet(POOL, 28, ['10.213.0.5/32']), '10.213.0.16/28', 'a single address');
});

void test('a network covering the whole pool exhausts it', () => {
  for (const taken of ['10.0.0.0/8', '10.212.0.0/15', '10.213.0.0/16']) {
    assert.throws(
      () => allocateSubnet(POOL, 28, [taken]),
      (error: unknown) => isFleetError(error) && error.code === 'unavailable' && /exhausted/.test(error.message),
      taken,
    );
  }
});

void test('networks outside the pool do not matter', () => {
  assert.equal(allocateSubnet(POOL, 28, ['172.17.0.0/16', '10.212.255.240/28', '10.214.0.0/28']), '10.213.0.0/28');
});

/** Every /28 of the /16, in order, as Docker would list them. */
function everySlash28(): string[] {
  return Array.from({ length: 4096 }, (_, index) => `10.213.${Math.floor(index / 16)}.${(index % 16) * 16}/28`);
}

void test('a /16 holds exactly 4096 /28s: with all but one taken that one is returned, with all taken the pool is exhausted', () => {
  const all = everySlash28();
  assert.equal(new Set(all).size, 4096);
  for (const free of [0, 1, 2047, 4095]) {
    assert.equal(allocateSubnet(POOL, 28, all.filter((_, index) => index !== free)), all[free]);
  }
  assert.throws(() => allocateSubnet(POOL, 28, all), /pool 10\.213\.0\.0\/16 is exhausted: no free \/28 left/);
});

void test('hundreds of sequential allocations are distinct and never overlap', () => {
  const taken: string[] = ['10.213.0.32/27', '172.17.0.0/16'];
  const allocated: string[] = [];
  for (let index = 0; index < 300; index++) {
    const subnet = allocateSubnet(POOL, 28, taken);
    allocated.push(subnet);
    taken.push(subnet);
  }
  assert.equal(new Set(allocated).size, 300);
  assert.deepEqual(allocated.slice(0, 3), ['10.213.0.0/28', '10.213.0.16/28', '10.213.0.64/28']);
  const cidrs = taken.map(parseIpv4Cidr);
  for (let i = 0; i < cidrs.length; i++) {
    for (let j = i + 1; j < cidrs.length; j++) assert.equal(cidrsOverlap(cidrs[i]!, cidrs[j]!), false, `${taken[i]} / ${taken[j]}`);
  }
});

void test('IPv6 and malformed entries in the taken list are ignored', () => {
  assert.equal(allocateSubnet(POOL, 28, ['fd00::/64', '2001:db8::/32', '', 'garbage', '10.213.0.0/99']), '10.213.0.0/28');
});

void test('a prefix that does not fit the pool is refused', () => {
  assert.throws(() => allocateSubnet(POOL, 15, []), (error: unknown) => isFleetError(error) && error.code === 'invalid_input');
  assert.throws(() => allocateSubnet(POOL, 31, []), /use \/16–\/30/);
});

void test('CIDR parsing normalises host bits and rejects bad text', () => {
  assert.deepEqual(parseIpv4Cidr('10.213.0.17/28'), parseIpv4Cidr('10.213.0.16/28'));
  assert.equal(gatewayOf(parseIpv4Cidr('10.213.0.16/28')), '10.213.0.17');
  for (const bad of ['10.213.0.0', '10.213.0.256/28', '10.213.0.0/33', 'a.b.c.d/8', '1.2.3/8', ' ']) {
    assert.throws(() => parseIpv4Cidr(bad), (error: unknown) => isFleetError(error) && error.code === 'invalid_input', bad);
  }
});
