import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateSubnet } from '../../../orchestrator/src/domain/ipv4-cidr.ts';

void test('a large taken network and thousands of small ones are stepped over whole, not walked a /29 at a time', { timeout: 10_000 }, () => {
  // Someone else's /9 covers half the pool, and the fleet already holds two thousand /29s after it.
  const clients = Array.from({ length: 2000 }, (_, index) => `10.${128 + Math.floor(index / 32)}.0.${(index % 32) * 8}/29`);
  const started = performance.now();
  const subnet = allocateSubnet('10.0.0.0/8', 29, [...clients, '10.0.0.0/9']);
  const elapsed = performance.now() - started;
  assert.equal(subnet, '10.128.1.0/29');
  assert.ok(elapsed < 1000, `took ${Math.round(elapsed)} ms`);
  // Unaligned and overlapping taken networks are still respected.
  assert.equal(allocateSubnet('10.213.0.0/16', 28, ['10.213.0.4/30', '10.213.0.0/27', '10.213.0.40/29']), '10.213.0.48/28');
});

void test('a pool wholly inside a taken network is exhausted at once', { timeout: 10_000 }, () => {
  assert.throws(() => allocateSubnet('10.0.0.0/8', 29, ['10.0.0.0/8']), /exhausted/);
});
