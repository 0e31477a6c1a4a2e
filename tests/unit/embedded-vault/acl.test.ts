import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Acl } from '../../../orchestrator/src/adapters/embedded-vault/acl.ts';
import { parsePolicy } from '../../../orchestrator/src/adapters/embedded-vault/policy-parser.ts';
import { VaultHttpError } from '../../../orchestrator/src/adapters/embedded-vault/vault-http-error.ts';

const acl = (...policies: string[]) =>
  new Acl(policies.map((text, i) => ({ name: `p${i}`, rules: parsePolicy(text) })));

void test('an exact path grants only that path', () => {
  const a = acl('path "fleet/data/acme/key" { capabilities = ["read"] }');
  assert.equal(a.allows('fleet/data/acme/key', 'read'), true);
  assert.equal(a.allows('fleet/data/acme/key', 'update'), false);
  assert.equal(a.allows('fleet/data/acme/key2', 'read'), false);
  assert.equal(a.allows('fleet/data/acme', 'read'), false);
});

void test('a trailing * is a prefix match, so acme/* never matches acme-2', () => {
  const a = acl('path "fleet/data/acme/*" { capabilities = ["read", "list"] }');
  assert.equal(a.allows('fleet/data/acme/a/b/c', 'read'), true);
  assert.equal(a.allows('fleet/data/acme/', 'list'), true);
  assert.equal(a.allows('fleet/data/acme-2/x', 'read'), false);
  assert.equal(a.allows('fleet/data/acme', 'read'), false);
});

void test('+ matches exactly one segment', () => {
  const a = acl(
    'path "fleet/data/+/shared" { capabilities = ["read"] }',
    'path "kv/+/*" { capabilities = ["list"] }',
  );
  assert.equal(a.allows('fleet/data/acme/shared', 'read'), true);
  assert.equal(a.allows('fleet/data/acme/x/shared', 'read'), false);
  assert.equal(a.allows('fleet/data/acme/shared/more', 'read'), false);
  assert.equal(a.allows('kv/team/', 'list'), true);
  assert.equal(a.allows('kv/team', 'list'), false);
});

void test('deny on a pattern wins over any capability on the same pattern from another policy', () => {
  const a = acl(
    'path "fleet/*" { capabilities = ["read", "update"] }',
    'path "fleet/*" { capabilities = ["deny"] }',
  );
  assert.equal(a.allows('fleet/data/x', 'read'), false);
  assert.equal(a.allows('fleet/data/x', 'update'), false);
});

void test('a deny-all policy denies everything, including the token endpoints', () => {
  const a = acl('path "*" { capabilities = ["deny"] }');
  for (const path of [
    'auth/token/renew-self',
    'auth/token/lookup-self',
    'fleet/data/acme/x',
    'sys/wrapping/unwrap',
  ]) {
    assert.equal(a.allows(path, 'read') || a.allows(path, 'update'), false, path);
  }
});

void test('the most specific pattern decides: exact over glob, later wildcard over earlier, longer over shorter', () => {
  const a = acl(
    'path "secret/*" { capabilities = ["deny"] }',
    'path "secret/open" { capabilities = ["read"] }',
    'path "secret/team/*" { capabilities = ["list"] }',
    'path "secret/+/x" { capabilities = ["update"] }',
  );
  assert.equal(a.allows('secret/open', 'read'), true);
  assert.equal(a.allows('secret/other', 'read'), false);
  assert.equal(a.allows('secret/team/a', 'list'), true);
  // secret/team/* has its first wildcard later than secret/+/x, so it wins for secret/team/x.
  assert.equal(a.allows('secret/team/x', 'update'), false);
  assert.equal(a.allows('secret/other/x', 'update'), true);
});

void test('sudo paths need sudo on top of the operation', () => {
  const a = acl(
    'path "auth/token/accessors" { capabilities = ["list"] }',
    'path "auth/token/create" { capabilities = ["update", "sudo"] }',
  );
  assert.equal(a.allows('auth/token/accessors', 'list', true), false);
  assert.equal(a.allows('auth/token/create', 'update', true), true);
});

void test('no policy means no access, and root means all access', () => {
  assert.equal(new Acl([]).allows('sys/health', 'read'), false);
  assert.equal(new Acl([{ name: 'root', rules: [] }]).allows('anything/at/all', 'delete', true), true);
});

void test('the policy parser accepts comments and the JSON form, and refuses what it cannot enforce', () => {
  const rules = parsePolicy(`# comment
  // another
  /* block */ path "a/*" {
    capabilities = ["read", "LIST",]
  }`);
  assert.deepEqual(rules, [{ pattern: 'a/*', capabilities: ['read', 'list'] }]);
  assert.deepEqual(parsePolicy('{"path": {"b": {"capabilities": ["update"]}}}'), [
    { pattern: 'b', capabilities: ['update'] },
  ]);
  for (const bad of [
    'path "a" { capabilities = ["write"] }',
    'path "a" { allowed_parameters = ["x"] }',
    'path "a/*/b" { capabilities = ["read"] }',
    'path "a/b+" { capabilities = ["read"] }',
    'path "a" { capabilities = ["read"] ',
    'path "a" {}',
    '{"path": {"a": {"capabilities": ["read"], "denied_parameters": {}}}}',
  ]) {
    assert.throws(
      () => parsePolicy(bad),
      (error: unknown) => error instanceof VaultHttpError && error.status === 400,
      bad,
    );
  }
});
