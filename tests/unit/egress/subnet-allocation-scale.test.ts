import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateSubnet } from '../../../orchestrator/src/domain/ipv4-cidr.ts';

void test('a large taken network and thousands of small ones are stepped over whole, not walked a /29 at a time', () => {
  // Someone else's /9 covers half the pool, and the fleet already holds two thousand /29s after it.
  const clients = Array.from({ length: 2000 }, (_, index) => `10.${128 + Math.floor(index / 32)}.0.${(index % 32) * 8}/29`);
  const tried: string[] = [];
  const subnet = allocateSubnet('10.0.0.0/8', 29, [...clients, '10.0.0.0/9'], (candidate) => tried.push(candidate));
  assert.equal(subnet, '10.128.1.0/29');
  // One try inside the /9 (walking it would be 2^20), one per client /29 in the way, and the free one.
  assert.ok(tried.length <= 1 + 32 + 1, `${tried.length} subnets tried`);
  assert.deepEqual(tried.slice(0, 2), ['10.0.0.0/29', '10.128.0.0/29'], 'from the start of the /9 straight past its end');
  // Unaligned and overlapping taken networks are still respected.
  assert.equal(allocateSubnet('10.213.0.0/16', 28, ['10.213.0.4/30', '10.213.0.0/27', '10.213.0.40/29']), '10.213.0.48/28');
});

void test('a pool wholly inside a taken network is exhausted at once', () => {
  let tries = 0;
  assert.throws(() => allocateSubnet('10.0.0.0/8', 29, ['10.0.0.0/8'], () => void tries++), /exhausted/);
  assert.equal(tries, 1);
});
