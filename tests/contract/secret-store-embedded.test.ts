import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import {
  EncryptedFileStore,
  loadOrCreateMasterKey,
  MASTER_KEY_FILE,
  STATE_FILE,
} from '../../orchestrator/src/adapters/embedded-vault/encrypted-file-store.ts';
import type { VaultState } from '../../orchestrator/src/adapters/embedded-vault/vault-state.ts';
import { MAX_BODY_BYTES } from '../../orchestrator/src/adapters/embedded-vault/http-handler.ts';
import {
  startEmbeddedVault,
  type EmbeddedVault,
} from '../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { createVaultClient, type VaultClient } from '../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultSecretStore } from '../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import { caFetch, testFleetCa } from '../helpers/agent-tls.ts';
import { describeSecretStoreContract } from './secret-store.contract.ts';

describeSecretStoreContract('embedded Vault-API store', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'embedded-vault-contract-'));
  let nowMs = Date.now();
  const vault = await startEmbeddedVault({
    dataDir,
    listen: [{ host: '127.0.0.1', port: 0 }],
    logger: createSilentLogger(),
    clock: { now: () => new Date(nowMs) },
    certificates: await testFleetCa(),
  });
  const adminClient = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
  return {
    vaultAddr: vault.url,
    caPem: vault.caCertificatePem,
    adminClient,
    store: new VaultSecretStore({ client: adminClient, logger: createSilentLogger() }),
    elapse: async (seconds) => {
      nowMs += seconds * 1000;
    },
    close: async () => {
      await vault.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

void describe('embedded Vault-API store: storage and HTTP edges', () => {
  let dataDir: string;
  let vault: EmbeddedVault;
  let admin: VaultClient;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'embedded-vault-edges-'));
    vault = await startEmbeddedVault({
      dataDir,
      listen: [{ host: '127.0.0.1', port: 0 }],
      logger: createSilentLogger(),
      certificates: await testFleetCa(),
    });
    admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
  });
  after(async () => {
    await vault?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const raw = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    caFetch(`${vault.url}/v1/${path}`, vault.caCertificatePem, init);

  void test('the master key file is 0600 and the store file holds none of the secret values or tokens', async () => {
    const store = new VaultSecretStore({ client: admin, logger: createSilentLogger() });
    const id = parseClientId('grep-check');
    await store.ensureClient(id);
    const secretValue = `secret-${randomBytes(12).toString('hex')}`;
    await store.writeSecret(id, 'api-key', secretValue);
    const intro = await store.issueAgentIntroduction(id);
    const agentToken = (
      (await createVaultClient({ endpoint: vault.url, caPem: vault.caCertificatePem }).write(
        'sys/wrapping/unwrap',
        {},
        { headers: { 'X-Vault-Token': intro.wrappingToken } },
      )) as {
        auth: { client_token: string };
      }
    ).auth.client_token;

    assert.equal((await stat(join(dataDir, MASTER_KEY_FILE))).mode & 0o777, 0o600);
    const onDisk = await readFile(join(dataDir, STATE_FILE));
    for (const needle of [
      secretValue,
      vault.rootToken,
      agentToken,
      intro.tokenAccessor,
      'api-key',
      `fleet-${id}`,
    ]) {
      assert.equal(onDisk.includes(Buffer.from(needle)), false, `store file contains ${needle.slice(0, 8)}…`);
      assert.equal(onDisk.includes(Buffer.from(Buffer.from(needle).toString('base64'))), false);
    }
  });

  void test('a restart keeps the root token and the data, and a tampered store refuses to load', async () => {
    await admin.write('sys/mounts/restart-kv', { type: 'kv-v2' });
    await admin.write('restart-kv/data/x', { data: { value: 'kept' } });
    await vault.close();
    vault = await startEmbeddedVault({
      dataDir,
      listen: [{ host: '127.0.0.1', port: 0 }],
      logger: createSilentLogger(),
      certificates: await testFleetCa(),
    });
    admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    assert.equal(vault.rootToken, admin.token);
    assert.equal(
      ((await admin.read('restart-kv/data/x')) as { data: { data: { value: string } } }).data.data.value,
      'kept',
    );

    const copyDir = await mkdtemp(join(tmpdir(), 'embedded-vault-tamper-'));
    try {
      await cp(dataDir, copyDir, { recursive: true });
      const sealed = await readFile(join(copyDir, STATE_FILE));
      sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 0x01;
      await writeFile(join(copyDir, STATE_FILE), sealed);
      await assert.rejects(
        startEmbeddedVault({
          dataDir: copyDir,
          listen: [{ host: '127.0.0.1', port: 0 }],
          logger: createSilentLogger(),
          certificates: await testFleetCa(),
        }),
        (error: unknown) => isFleetError(error) && error.code === 'integrity',
      );
    } finally {
      await rm(copyDir, { recursive: true, force: true });
    }
  });

  void test('it refuses to listen on every interface', async () => {
    await assert.rejects(
      vault.addListener('0.0.0.0', 0),
      (error: unknown) => isFleetError(error) && error.code === 'invalid_input',
    );
  });

  void test('requests without a token or with an unknown token get 403 permission denied', async () => {
    for (const headers of [{}, { 'X-Vault-Token': 'hvs.not-a-real-token-at-all-xxxxxxxx' }] as Record<string, string>[]) {
      const response = await raw('sys/policies/acl', { method: 'GET', headers });
      assert.equal(response.status, 403);
      assert.deepEqual(await response.json(), { errors: ['permission denied'] });
    }
    const health = await raw('sys/health');
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { sealed: boolean }).sealed, false);
  });

  void test('bodies that are not JSON objects get 400 and oversized bodies 413, as Vault answers', async () => {
    const headers = { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' };
    for (const body of ['{not json', '[1,2]', '"text"']) {
      const response = await raw('sys/policies/acl/x', { method: 'POST', headers, body });
      assert.equal(response.status, 400, body);
      const parsed = (await response.json()) as { errors: string[] };
      assert.match(parsed.errors[0] ?? '', /^failed to parse JSON input/);
    }
    const big = await raw('sys/policies/acl/x', {
      method: 'POST',
      headers,
      body: JSON.stringify({ policy: 'x'.repeat(MAX_BODY_BYTES) }),
    });
    assert.equal(big.status, 413);
    const badPolicy = await raw('sys/policies/acl/x', {
      method: 'POST',
      headers,
      body: JSON.stringify({ policy: 'path "a" { allowed_parameters = {} }' }),
    });
    assert.equal(badPolicy.status, 400);
  });

  void test('a malformed body is refused without quoting it back (it may hold a secret)', async () => {
    const headers = { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' };
    const response = await raw('sys/policies/acl/x', { method: 'POST', headers, body: '{"data":{"value":sekrit-123}}' });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.match(text, /failed to parse JSON input/);
    assert.doesNotMatch(text, /sekrit/);
  });

  void test('the request log names the accessor of a revoked token that keeps trying, never the token', async () => {
    const store = new VaultSecretStore({ client: admin, logger: createSilentLogger() });
    const id = parseClientId('log-check');
    await store.ensureClient(id);
    const intro = await store.issueAgentIntroduction(id);
    const agent = createVaultClient({ endpoint: vault.url, caPem: vault.caCertificatePem });
    agent.token = (
      (await agent.write(
        'sys/wrapping/unwrap',
        {},
        { headers: { 'X-Vault-Token': intro.wrappingToken } },
      )) as { auth: { client_token: string } }
    ).auth.client_token;
    await agent.read('auth/token/lookup-self');
    await store.revokeAgentTokens(id);
    await assert.rejects(agent.read('auth/token/lookup-self'));
    const entries = vault.requestLog.byAccessor(intro.tokenAccessor);
    assert.deepEqual(
      entries.map((e) => [e.method, e.path, e.status]),
      [
        ['GET', '/v1/auth/token/lookup-self', 200],
        ['GET', '/v1/auth/token/lookup-self', 403],
      ],
    );
    assert.ok(!JSON.stringify(vault.requestLog.entries()).includes(agent.token));
  });
});

void test('embedded Vault-API store: a wrap that expired unredeemed is gone from the store file after a restart', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'embedded-vault-expiry-'));
  let nowMs = Date.now();
  const start = async () =>
    startEmbeddedVault({
      dataDir,
      listen: [{ host: '127.0.0.1', port: 0 }],
      logger: createSilentLogger(),
      clock: { now: () => new Date(nowMs) },
      certificates: await testFleetCa(),
    });
  let vault = await start();
  try {
    const admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    await admin.write('sys/mounts/expiry-kv', { type: 'kv-v2' });
    await admin.write('expiry-kv/data/tls', { data: { private_key: 'unredeemed' } });
    await admin.read('expiry-kv/data/tls', { headers: { 'X-Vault-Wrap-TTL': '60s' } });
    await vault.close();
    const stored = async () =>
      (await new EncryptedFileStore(dataDir, await loadOrCreateMasterKey(dataDir)).load()) as VaultState;
    assert.equal(Object.keys((await stored()).wraps).length, 1);

    nowMs += 61_000;
    vault = await start();
    assert.deepEqual(Object.keys((await stored()).wraps), [], 'the expired wrap was removed at start');
  } finally {
    await vault.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
