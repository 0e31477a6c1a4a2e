import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initialVaultState } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { TokenStore } from '../../../orchestrator/src/adapters/embedded-vault/token-store.ts';
import { VaultCore } from '../../../orchestrator/src/adapters/embedded-vault/vault-core.ts';
import { VaultHttpError } from '../../../orchestrator/src/adapters/embedded-vault/vault-http-error.ts';
import type { VaultState } from '../../../orchestrator/src/adapters/embedded-vault/vault-state.ts';

interface Answer {
  status: number;
  body: Record<string, unknown>;
  errors: string[];
  mutated: boolean;
}

/** A VaultCore over `state` (by default a fresh one with a root token), driven the way the HTTP handler drives it. */
function vault(state: VaultState = initialVaultState(0)) {
  const root = state.rootToken;
  const core = new VaultCore(state);
  let now = 1_000_000;
  const call = (
    method: string,
    path: string,
    options: { body?: Record<string, unknown>; token?: string | null; wrapTtl?: string; query?: string } = {},
  ): Answer => {
    const outcome = core.handle(
      {
        method,
        path,
        query: new URLSearchParams(options.query ?? ''),
        body: options.body ?? {},
        token: options.token === null ? undefined : (options.token ?? root),
        wrapTtl: options.wrapTtl,
      },
      now,
    );
    const result = outcome.result;
    if (result instanceof VaultHttpError)
      return { status: result.status, body: {}, errors: result.errors, mutated: outcome.mutated };
    return {
      status: result.status,
      body: result.status === 200 ? result.body : {},
      errors: [],
      mutated: outcome.mutated,
    };
  };
  const ok = (answer: Answer): Answer => {
    assert.ok(answer.status === 200 || answer.status === 204, `expected success, got ${answer.status} ${answer.errors.join('; ')}`);
    return answer;
  };
  const auth = (answer: Answer) => ok(answer).body['auth'] as Record<string, unknown> & { client_token: string; accessor: string };
  const elapse = (seconds: number) => {
    now += seconds * 1000;
  };
  return { state, core, root, call, ok, auth, elapse };
}

const CREATOR_POLICY = 'path "auth/token/create*" { capabilities = ["update"] }';

const tokenCount = (state: VaultState) => Object.keys(state.tokens).length;

void test('an unauthenticated request cannot make the store create wrapping tokens', () => {
  const { state, call } = vault();
  const before = tokenCount(state);
  const health = call('GET', 'sys/health', { token: null, wrapTtl: '768h' });
  assert.equal(health.status, 200);
  assert.equal(health.body['wrap_info'], undefined, 'sys/health is never wrapped');
  assert.equal(health.mutated, false);
  assert.equal(tokenCount(state), before);
  assert.deepEqual(Object.keys(state.wraps), []);
});

void test('a refused X-Vault-Wrap-TTL refuses the request before it runs: no token, secret or key is left behind', () => {
  const { state, call, ok } = vault();
  ok(call('POST', 'sys/mounts/kv', { body: { type: 'kv-v2' } }));
  const before = tokenCount(state);
  for (const wrapTtl of ['0', 'abc', '769h']) {
    const created = call('POST', 'auth/token/create', { body: { policies: ['default'] }, wrapTtl });
    assert.equal(created.status, 400, wrapTtl);
    const written = call('POST', 'kv/data/x', { body: { data: { value: 'v' } }, wrapTtl });
    assert.equal(written.status, 400, wrapTtl);
  }
  assert.equal(tokenCount(state), before);
  assert.equal(call('GET', 'kv/data/x').status, 404, 'the secret was not written');
});

void test('an expired wrap is removed with its wrapped response even when nobody looks it up again', () => {
  const { state, call, ok, elapse } = vault();
  ok(call('POST', 'sys/mounts/kv', { body: { type: 'kv-v2' } }));
  ok(call('POST', 'kv/data/tls', { body: { data: { private_key: 'PRIVATE-KEY-MATERIAL' } } }));
  const wrapped = ok(call('GET', 'kv/data/tls', { wrapTtl: '60s' })).body['wrap_info'] as { token: string };
  ok(call('POST', 'auth/token/create', { body: { policies: ['default'] }, wrapTtl: '60s' }));
  assert.equal(Object.keys(state.wraps).length, 2);

  elapse(61);
  const unrelated = call('GET', 'sys/health', { token: null });
  assert.equal(unrelated.mutated, true, 'the removal is persisted');
  assert.deepEqual(Object.keys(state.wraps), []);
  assert.equal(JSON.stringify(state).includes('PRIVATE-KEY-MATERIAL'), true, 'the secret itself stays in KV');
  assert.equal(JSON.stringify(state.wraps).includes('PRIVATE-KEY-MATERIAL'), false);
  const unwrap = call('POST', 'sys/wrapping/unwrap', { token: wrapped.token });
  assert.deepEqual([unwrap.status, unwrap.errors], [400, ['wrapping token is not valid or does not exist']]);
});

void test("a parent's expiry revokes the children it made, even those renewed past it", () => {
  const { call, ok, auth, elapse } = vault();
  ok(call('POST', 'sys/policies/acl/creator', { body: { policy: CREATOR_POLICY } }));
  const parent = auth(call('POST', 'auth/token/create', { body: { policies: ['creator'], ttl: '1h' } }));
  const child = auth(call('POST', 'auth/token/create', { body: { ttl: '1h' }, token: parent.client_token }));
  elapse(50 * 60);
  const renewed = auth(call('POST', 'auth/token/renew-self', { body: { increment: '2h' }, token: child.client_token }));
  assert.ok((renewed['lease_duration'] as number) > 3600, 'the child may be renewed past its parent');
  elapse(20 * 60);
  // Nobody touched the parent since it expired: its expiry still takes its children with it.
  assert.equal(call('GET', 'auth/token/lookup-self', { token: child.client_token }).status, 403);
  assert.equal(call('POST', 'auth/token/lookup-accessor', { body: { accessor: child.accessor } }).status, 400);
});

void test("a token role's limits hold against the request: explicit max TTL, renewability and period", () => {
  const { call, ok, auth } = vault();
  ok(call('POST', 'auth/token/roles/capped', { body: { allowed_policies: ['default'], token_explicit_max_ttl: '1h', renewable: false } }));
  ok(call('POST', 'sys/policies/acl/role-user', { body: { policy: 'path "auth/token/create/capped" { capabilities = ["update"] }' } }));
  const user = auth(call('POST', 'auth/token/create', { body: { policies: ['role-user'] } })).client_token;

  for (const explicitMaxTtl of [0, '0', '700h']) {
    const token = auth(call('POST', 'auth/token/create/capped', { body: { explicit_max_ttl: explicitMaxTtl, ttl: '700h' }, token: user }));
    assert.equal(token['lease_duration'], 3600, `explicit_max_ttl ${String(explicitMaxTtl)} does not lift the role's 1h`);
  }
  const shorter = auth(call('POST', 'auth/token/create/capped', { body: { explicit_max_ttl: '10m' }, token: user }));
  assert.equal(shorter['lease_duration'], 600, 'the lesser limit wins');
  const renewable = auth(call('POST', 'auth/token/create/capped', { body: { renewable: true }, token: user }));
  assert.equal(renewable['renewable'], false);
  const periodic = call('POST', 'auth/token/create/capped', { body: { period: '24h' }, token: user });
  assert.deepEqual([periodic.status, periodic.errors], [400, ['root or sudo privileges required to create periodic token']]);

  ok(call('POST', 'auth/token/roles/periodic', { body: { allowed_policies: ['default'], token_period: '1h' } }));
  const lesser = auth(call('POST', 'auth/token/create/periodic', { body: { period: '24h' } }));
  assert.equal(lesser['lease_duration'], 3600, "a root request's period does not lengthen the role's");
});

void test('a use-limited token cannot create children that would escape its limit', () => {
  const { call, ok, auth } = vault();
  ok(call('POST', 'sys/policies/acl/creator', { body: { policy: CREATOR_POLICY } }));
  const limited = auth(call('POST', 'auth/token/create', { body: { policies: ['creator'], num_uses: 3 } })).client_token;
  const child = call('POST', 'auth/token/create-orphan', { body: { policies: ['default'] }, token: limited });
  assert.deepEqual([child.status, child.errors], [400, ['restricted use token cannot generate child tokens']]);
});

void test('tokens cannot be given the internal response-wrapping policy', () => {
  const { call } = vault();
  const created = call('POST', 'auth/token/create', { body: { policies: ['response-wrapping'] } });
  assert.equal(created.status, 400);
});

void test('names that are Object.prototype members are plain keys: no 500, no prototype pollution', () => {
  const { call, ok } = vault();
  ok(call('POST', 'sys/mounts/kv', { body: { type: 'kv-v2' } }));
  ok(call('POST', 'sys/mounts/transit', { body: { type: 'transit' } }));
  try {
    ok(call('POST', 'kv/metadata/__proto__', { body: { max_versions: 3, cas_required: true } }));
    assert.equal(({} as Record<string, unknown>)['casRequired'], undefined, 'Object.prototype is untouched');
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      assert.equal(call('GET', `kv/data/${name}`).status, 404, name);
      ok(call('POST', `kv/data/${name}`, { body: { data: { value: name } } }));
      const read = ok(call('GET', `kv/data/${name}`)).body['data'] as { data: { value: string } };
      assert.equal(read.data.value, name);
      assert.equal(call('GET', `transit/keys/${name}`).status, 404, name);
      assert.equal(call('POST', `auth/token/create/${name}`).status, 400, name);
      assert.equal(call('POST', 'auth/token/revoke-accessor', { body: { accessor: name } }).status, 400, name);
    }
    assert.equal(call('GET', 'sys/policies/acl/constructor').status, 404);
    ok(call('POST', 'transit/encrypt/constructor', { body: { plaintext: 'aGk=' } }));
  } finally {
    for (const key of ['maxVersions', 'casRequired', 'updatedAt', 'createdAt', 'currentVersion', 'oldestVersion', 'versions'])
      delete (Object.prototype as Record<string, unknown>)[key];
  }
});

void test('a transit config request that is refused changes nothing', () => {
  const { call, ok } = vault();
  ok(call('POST', 'sys/mounts/transit', { body: { type: 'transit' } }));
  ok(call('POST', 'transit/keys/k', { body: {} }));
  const refused = call('POST', 'transit/keys/k/config', { body: { deletion_allowed: true, min_decryption_version: 9 } });
  assert.equal(refused.status, 400);
  assert.equal(call('DELETE', 'transit/keys/k').status, 400, 'deletion is still not allowed');
});

void test('a list names a directory as Vault does: the path gains its trailing slash, also for the ACL', () => {
  const { call, ok, auth } = vault();
  ok(call('POST', 'sys/mounts/kv', { body: { type: 'kv-v2' } }));
  ok(call('POST', 'kv/data/acme/x', { body: { data: { value: '1' } } }));
  ok(call('POST', 'kv/data/acme-evil/y', { body: { data: { value: '2' } } }));
  ok(call('POST', 'sys/policies/acl/acme', { body: { policy: 'path "kv/metadata/acme/*" { capabilities = ["list"] }' } }));
  const acme = auth(call('POST', 'auth/token/create', { body: { policies: ['acme'] } })).client_token;
  for (const path of ['kv/metadata/acme', 'kv/metadata/acme/']) {
    const listed = ok(call('GET', path, { query: 'list=true', token: acme })).body['data'] as { keys: string[] };
    assert.deepEqual(listed.keys, ['x'], path);
  }
  assert.equal(call('GET', 'kv/metadata/acme-evil', { query: 'list=true', token: acme }).status, 403);
  assert.equal(call('GET', 'kv/metadata', { query: 'list=true', token: acme }).status, 403);
  ok(call('POST', 'auth/token/roles/r', { body: { allowed_policies: ['default'] } }));
  assert.deepEqual((ok(call('GET', 'auth/token/roles', { query: 'list=true' })).body['data'] as { keys: string[] }).keys, ['r']);
  ok(call('GET', 'auth/token/accessors', { query: 'list=true' }));
  const bad = call('GET', 'kv/metadata/acme/', { query: 'list=yes' });
  assert.deepEqual([bad.status, bad.errors], [400, ['invalid value for list parameter']]);
  assert.equal(ok(call('GET', 'kv/data/acme/x', { query: 'list=false' })).status, 200);
});

/** Counts how often the token table is enumerated (what a scan of every token does first). */
function countTokenScans(state: VaultState): () => number {
  let scans = 0;
  state.tokens = new Proxy(state.tokens, {
    ownKeys: (target) => {
      scans++;
      return Reflect.ownKeys(target);
    },
  });
  return () => scans;
}

void test('with a thousand tokens, requests scan no token table: expiry looks only at what is due, revocation only at the subtree', () => {
  const { state, call, ok, auth, elapse } = vault();
  ok(call('POST', 'sys/policies/acl/creator', { body: { policy: CREATOR_POLICY } }));
  const clients = Array.from({ length: 1000 }, (_, index) =>
    auth(call('POST', 'auth/token/create', { body: { policies: ['creator'], period: `${3600 + index}s` } })),
  );
  const scans = countTokenScans(state);
  const [first, second] = clients;
  ok(call('GET', 'auth/token/lookup-self', { token: first!.client_token }));
  const child = auth(call('POST', 'auth/token/create', { body: { ttl: '10m' }, token: first!.client_token }));
  const wrapped = ok(call('POST', 'auth/token/create', { body: { policies: ['default'] }, wrapTtl: '60s' })).body['wrap_info'] as { token: string };
  ok(call('POST', 'sys/wrapping/unwrap', { token: wrapped.token }));
  ok(call('POST', 'auth/token/revoke-accessor', { body: { accessor: first!.accessor } }));
  elapse(11 * 60);
  ok(call('GET', 'auth/token/lookup-self', { token: second!.client_token }));
  assert.equal(scans(), 0);
  assert.equal(call('GET', 'auth/token/lookup-self', { token: child.client_token }).status, 403, 'the child went with its parent');
  assert.equal(state.accessors[child.accessor], undefined);
});

void test("a renewal moves a token's expiry both ways: it leaves the state at the first request after the new one", () => {
  const { state, call, ok, auth, elapse } = vault();
  const token = auth(call('POST', 'auth/token/create', { body: { policies: ['default'], ttl: '1h' } }));
  ok(call('POST', 'auth/token/renew-self', { body: { increment: '2h' }, token: token.client_token }));
  elapse(90 * 60);
  ok(call('GET', 'auth/token/lookup-self', { token: token.client_token }));
  // Renewed with a shorter increment: due earlier than the expiry it had.
  ok(call('POST', 'auth/token/renew-self', { body: { increment: '60s' }, token: token.client_token }));
  elapse(61);
  const unrelated = call('GET', 'sys/health', { token: null });
  assert.equal(unrelated.mutated, true, 'the removal is persisted');
  assert.equal(state.accessors[token.accessor], undefined);
  assert.equal(tokenCount(state), 1, 'only the root token is left');
});

void test('a saved state with expired tokens (and their children) and wraps without their token is cleaned at the first request', () => {
  const saved = initialVaultState(0);
  const tokens = new TokenStore(saved);
  const init = { policies: ['default'], creationTtl: 60, period: null, explicitMaxTtl: 0, renewable: true, displayName: 'token', meta: {}, numUses: 0, path: 'auth/token/create', role: null };
  const parent = tokens.create({ ...init, expiresAt: 60_000, orphan: true, parentAccessor: null }, 0).record;
  tokens.create({ ...init, expiresAt: 10_000_000, orphan: false, parentAccessor: parent.accessor }, 0);
  tokens.create({ ...init, expiresAt: 10_000_000, orphan: true, parentAccessor: null }, 0);
  saved.wraps['0'.repeat(64)] = { creationPath: 'kv/data/x', createdAt: 0, ttl: 60, response: '{"secret":"WRAPPED-MATERIAL"}' };
  assert.equal(tokenCount(saved), 4);

  const { state, call } = vault(saved);
  assert.equal(call('GET', 'sys/health', { token: null }).mutated, true);
  assert.equal(tokenCount(state), 2, 'root and the unrelated orphan are left');
  assert.deepEqual(Object.keys(state.wraps), []);
  assert.equal(call('GET', 'sys/health', { token: null }).mutated, false, 'nothing more to remove');
});
