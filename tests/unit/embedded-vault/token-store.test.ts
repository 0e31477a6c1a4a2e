import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDurationSeconds } from '../../../orchestrator/src/adapters/embedded-vault/durations.ts';
import {
  MAX_TTL_SECONDS,
  TokenStore,
  type TokenInit,
} from '../../../orchestrator/src/adapters/embedded-vault/token-store.ts';
import { emptyState } from '../../../orchestrator/src/adapters/embedded-vault/vault-state.ts';

const base: TokenInit = {
  policies: ['p'],
  creationTtl: 60,
  expiresAt: 60_000,
  period: null,
  explicitMaxTtl: 0,
  renewable: true,
  orphan: false,
  parentAccessor: null,
  displayName: 'token',
  meta: {},
  numUses: 0,
  path: 'auth/token/create',
  role: null,
};

void test('a token expires at its TTL and is then purged', () => {
  const tokens = new TokenStore(emptyState(''));
  const { token } = tokens.create(base, 0);
  assert.ok(tokens.lookup(token, 59_999));
  assert.equal(tokens.lookup(token, 60_000), null);
  assert.equal(tokens.lookup(token, 0), null, 'an expired token does not come back');
});

void test('renewing a periodic token restores its full period, with no overall limit', () => {
  const tokens = new TokenStore(emptyState(''));
  const { record } = tokens.create({ ...base, period: 60 }, 0);
  let now = 0;
  for (let i = 0; i < 100; i++) {
    now += 40_000;
    assert.equal(tokens.renew(record, undefined, now), 60);
  }
  assert.equal(
    tokens.renew(record, undefined, MAX_TTL_SECONDS * 1000 + 10_000),
    60,
    'still renewable past the 768h maximum TTL',
  );
});

void test('renewing a normal token is capped by its explicit max TTL', () => {
  const tokens = new TokenStore(emptyState(''));
  const { record } = tokens.create({ ...base, explicitMaxTtl: 100 }, 0);
  assert.equal(tokens.renew(record, 60, 50_000), 50);
});

void test('revoking a parent revokes its children but not orphans', () => {
  const tokens = new TokenStore(emptyState(''));
  const parent = tokens.create(base, 0);
  const child = tokens.create({ ...base, parentAccessor: parent.record.accessor }, 0);
  const grandchild = tokens.create({ ...base, parentAccessor: child.record.accessor }, 0);
  const orphan = tokens.create({ ...base, orphan: true }, 0);
  assert.equal(tokens.revokeAccessor(parent.record.accessor), true);
  assert.equal(tokens.lookup(child.token, 1), null);
  assert.equal(tokens.lookup(grandchild.token, 1), null);
  assert.ok(tokens.lookup(orphan.token, 1));
  assert.equal(tokens.revokedAccessor(grandchild.token), grandchild.record.accessor);
  assert.equal(tokens.revokeAccessor(parent.record.accessor), false);
});

void test('the state keys tokens by hash, never by value', () => {
  const state = emptyState('');
  const { token } = new TokenStore(state).create(base, 0);
  assert.ok(!JSON.stringify(state).includes(token));
});

void test('durations parse like Vault and malformed ones are refused', () => {
  assert.equal(parseDurationSeconds('60s', 'ttl'), 60);
  assert.equal(parseDurationSeconds('1h30m', 'ttl'), 5400);
  assert.equal(parseDurationSeconds('2d', 'ttl'), 172_800);
  assert.equal(parseDurationSeconds(45, 'ttl'), 45);
  assert.equal(parseDurationSeconds('45', 'ttl'), 45);
  assert.equal(parseDurationSeconds(undefined, 'ttl'), undefined);
  for (const bad of ['1x', '-5', 'h', 1.5, -1, true]) assert.throws(() => parseDurationSeconds(bad, 'ttl'));
});
