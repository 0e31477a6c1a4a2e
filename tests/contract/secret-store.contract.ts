import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { VaultSecretSource } from '../../agent-image/src/adapters/vault/vault-secret-source.ts';
import type { AgentIntroduction, SecretStore } from '../../orchestrator/src/ports/secret-store.ts';
import {
  createVaultClient,
  vaultStatusOf,
  type VaultClient,
} from '../../orchestrator/src/adapters/vault/vault-client.ts';

/** One secret store under test, reachable over the Vault HTTP API. */
export interface SecretStoreTarget {
  vaultAddr: string;
  /** PEM of the CA the store's TLS certificate chains to (the fleet CA for the embedded store). */
  caPem?: string;
  /** The node-vault client the store uses; it holds the orchestrator's own token. */
  adminClient: VaultClient;
  store: SecretStore;
  /** Lets at least this many seconds pass for the store (a fake clock, or a real wait). */
  elapse(seconds: number): Promise<void>;
  close(): Promise<void>;
}

async function expectStatus(promise: Promise<unknown>, status: number, what: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal(
      vaultStatusOf(error),
      status,
      `${what}: expected ${status}, got ${vaultStatusOf(error) ?? String(error)}`,
    );
    return true;
  });
}

/** Redeems an introduction the way the agent does, returning the agent's token (tests only). */
async function redeem(target: Pick<SecretStoreTarget, 'vaultAddr' | 'caPem'>, intro: AgentIntroduction): Promise<string> {
  const client = createVaultClient({ endpoint: target.vaultAddr, caPem: target.caPem });
  const response = (await client.write(
    'sys/wrapping/unwrap',
    {},
    { headers: { 'X-Vault-Token': intro.wrappingToken } },
  )) as { auth: { client_token: string } };
  return response.auth.client_token;
}

/** The behaviour every SecretStore adapter (and the store behind it) must show. */
export function describeSecretStoreContract(
  name: string,
  createTarget: () => Promise<SecretStoreTarget>,
): void {
  void describe(`SecretStore contract: ${name}`, () => {
    let target: SecretStoreTarget;
    let workDir: string;

    before(async () => {
      target = await createTarget();
      workDir = await mkdtemp(join(tmpdir(), 'secret-store-contract-'));
    });
    after(async () => {
      await target?.close();
      await rm(workDir, { recursive: true, force: true });
    });

    /** A fresh client, removed again when the test ends (even when it fails). */
    async function newClient(t: TestContext): Promise<ClientId> {
      const id = parseClientId(`ct-${randomBytes(4).toString('hex')}`);
      t.after(() => target.store.removeClient(id));
      await target.store.ensureClient(id);
      return id;
    }

    const agentClient = (token: string): VaultClient =>
      createVaultClient({ endpoint: target.vaultAddr, token, caPem: target.caPem });

    void test("client A's token gets 403 on every path of client B, on policy writes, token creation and sys/mounts", async (t) => {
      const a = await newClient(t);
      const b = await newClient(t);
      await target.store.writeSecret(a, 'api-key', 'value-of-a');
      await target.store.writeSecret(b, 'api-key', 'value-of-b');
      const introB = await target.store.issueAgentIntroduction(b);
      const tokenA = await redeem(target, await target.store.issueAgentIntroduction(a));
      const asA = agentClient(tokenA);

      // Control: the same token can read its own client's secret, so the 403s below are about B.
      assert.equal(
        ((await asA.read(`fleet/data/${a}/api-key`)) as { data: { data: { value: string } } }).data.data
          .value,
        'value-of-a',
      );

      const ciphertextB = (
        (await agentClient(await redeem(target, introB)).write(`transit/encrypt/fleet-${b}`, {
          plaintext: Buffer.from('x').toString('base64'),
        })) as {
          data: { ciphertext: string };
        }
      ).data.ciphertext;
      const attempts: [string, () => Promise<unknown>][] = [
        ['KV read of B', () => asA.read(`fleet/data/${b}/api-key`)],
        ['KV write of B', () => asA.write(`fleet/data/${b}/api-key`, { data: { value: 'overwritten' } })],
        ['KV new secret under B', () => asA.write(`fleet/data/${b}/new`, { data: { value: 'x' } })],
        ['KV delete of B', () => asA.delete(`fleet/data/${b}/api-key`)],
        ['KV list of B', () => asA.list(`fleet/metadata/${b}/`)],
        ['KV metadata of B', () => asA.read(`fleet/metadata/${b}/api-key`)],
        ['KV metadata delete of B', () => asA.delete(`fleet/metadata/${b}/api-key`)],
        ['KV list of every client', () => asA.list('fleet/metadata/')],
        ['transit encrypt with B', () => asA.write(`transit/encrypt/fleet-${b}`, { plaintext: 'eA==' })],
        [
          'transit decrypt with B',
          () => asA.write(`transit/decrypt/fleet-${b}`, { ciphertext: ciphertextB }),
        ],
        ['transit datakey of B', () => asA.write(`transit/datakey/plaintext/fleet-${b}`, {})],
        ['transit rewrap with B', () => asA.write(`transit/rewrap/fleet-${b}`, { ciphertext: ciphertextB })],
        ['transit key read of B', () => asA.read(`transit/keys/fleet-${b}`)],
        ['transit rotate of own key', () => asA.write(`transit/keys/fleet-${a}/rotate`, {})],
        [
          'policy write of own policy',
          () =>
            asA.write(`sys/policies/acl/fleet-${a}`, {
              policy: 'path "*" { capabilities = ["sudo", "read"] }',
            }),
        ],
        [
          'policy write of B',
          () => asA.write(`sys/policies/acl/fleet-${b}`, { policy: 'path "*" { capabilities = ["deny"] }' }),
        ],
        ['policy read of B', () => asA.read(`sys/policies/acl/fleet-${b}`)],
        ['token create', () => asA.write('auth/token/create', { policies: [`fleet-${b}`] })],
        ['token create-orphan', () => asA.write('auth/token/create-orphan', {})],
        ['token create with own role', () => asA.write(`auth/token/create/fleet-${a}`, {})],
        ['token create with B role', () => asA.write(`auth/token/create/fleet-${b}`, {})],
        ['role write', () => asA.write(`auth/token/roles/fleet-${a}`, { allowed_policies: ['root'] })],
        [
          'revoke B by accessor',
          () => asA.write('auth/token/revoke-accessor', { accessor: introB.tokenAccessor }),
        ],
        [
          'lookup B by accessor',
          () => asA.write('auth/token/lookup-accessor', { accessor: introB.tokenAccessor }),
        ],
        ['sys/mounts list', () => asA.read('sys/mounts')],
        [
          'sys/mounts enable',
          () => asA.write('sys/mounts/stolen', { type: 'kv', options: { version: '2' } }),
        ],
        ['orchestrator records', () => asA.read(`fleet-system/data/agent-tokens/${a}`)],
      ];
      for (const [what, attempt] of attempts) await expectStatus(attempt(), 403, what);
      assert.equal(
        ((await target.adminClient.read(`fleet/data/${b}/api-key`)) as { data: { data: { value: string } } })
          .data.data.value,
        'value-of-b',
      );
    });

    void test('a wrapping token unwraps once and fails the second time', async (t) => {
      const id = await newClient(t);
      const intro = await target.store.issueAgentIntroduction(id);
      assert.equal(intro.creationPath, `auth/token/create/fleet-${id}`);
      assert.ok(intro.ttlSeconds > 0 && intro.ttlSeconds <= 60);
      const lookup = (await createVaultClient({ endpoint: target.vaultAddr, caPem: target.caPem }).write('sys/wrapping/lookup', {
        token: intro.wrappingToken,
      })) as {
        data: { creation_path: string };
      };
      assert.equal(lookup.data.creation_path, intro.creationPath);
      const token = await redeem(target, intro);
      const self = (await agentClient(token).read('auth/token/lookup-self')) as {
        data: { accessor: string; policies: string[]; period?: number };
      };
      assert.equal(self.data.accessor, intro.tokenAccessor);
      assert.deepEqual(self.data.policies, [`fleet-${id}`]);
      assert.ok((self.data.period ?? 0) > 0, 'the agent token is periodic');
      await expectStatus(redeem(target, intro), 400, 'second unwrap');
    });

    void test('a wrapping token fails after its TTL', async (t) => {
      const id = await newClient(t);
      const intro = await target.store.issueAgentIntroduction(id);
      await target.elapse(intro.ttlSeconds + 1);
      await expectStatus(redeem(target, intro), 400, 'unwrap after TTL');
    });

    void test('revoking by accessor makes the agent token 403 immediately', async (t) => {
      const id = await newClient(t);
      const token = await redeem(target, await target.store.issueAgentIntroduction(id));
      await agentClient(token).read('auth/token/lookup-self');
      assert.deepEqual(await target.store.revokeAgentTokens(id), { revoked: 1 });
      await expectStatus(
        agentClient(token).read('auth/token/lookup-self'),
        403,
        'lookup-self after revocation',
      );
      await expectStatus(
        agentClient(token).write(`fleet/data/${id}/x`, { data: { value: 'x' } }),
        403,
        'write after revocation',
      );
      assert.deepEqual(await target.store.revokeAgentTokens(id), { revoked: 0 });
    });

    void test('revokeAgentTokenAccessors revokes exactly the tokens named (a rotation\'s old ones), leaving a newer one live', async (t) => {
      const id = await newClient(t);
      const old = await redeem(target, await target.store.issueAgentIntroduction(id));
      const before = await target.store.agentTokenAccessors(id);
      assert.equal(before.length, 1);
      const fresh = await redeem(target, await target.store.issueAgentIntroduction(id));
      assert.equal((await target.store.agentTokenAccessors(id)).length, 2);
      assert.deepEqual(await target.store.revokeAgentTokenAccessors(id, before), { revoked: 1 });
      await expectStatus(agentClient(old).read('auth/token/lookup-self'), 403, 'lookup-self of the revoked token');
      await agentClient(fresh).read('auth/token/lookup-self');
      assert.deepEqual(await target.store.revokeAgentTokenAccessors(id, before), { revoked: 0 });
      assert.deepEqual(await target.store.revokeAgentTokens(id), { revoked: 1 });
    });

    void test('lockClient makes an existing token 403; unlockClient and a new introduction work again', async (t) => {
      const id = await newClient(t);
      await target.store.writeSecret(id, 'api-key', 'locked-value');
      const token = await redeem(target, await target.store.issueAgentIntroduction(id));
      await agentClient(token).read(`fleet/data/${id}/api-key`);
      await target.store.lockClient(id);
      await expectStatus(agentClient(token).read(`fleet/data/${id}/api-key`), 403, 'read while locked');
      await expectStatus(agentClient(token).write('auth/token/renew-self', {}), 403, 'renew while locked');
      await target.store.ensureClient(id);
      await expectStatus(
        agentClient(token).read(`fleet/data/${id}/api-key`),
        403,
        'ensureClient keeps a locked client locked',
      );
      await target.store.revokeAgentTokens(id);
      await target.store.unlockClient(id);
      await expectStatus(
        agentClient(token).read(`fleet/data/${id}/api-key`),
        403,
        'revoked token after unlock',
      );
      const fresh = await redeem(target, await target.store.issueAgentIntroduction(id));
      const secret = (await agentClient(fresh).read(`fleet/data/${id}/api-key`)) as {
        data: { data: { value: string } };
      };
      assert.equal(secret.data.data.value, 'locked-value');
    });

    void test('rotateDataKey keeps old ciphertexts decryptable and new encryptions use the new version', async (t) => {
      const id = await newClient(t);
      const agent = agentClient(
        await redeem(target, await target.store.issueAgentIntroduction(id)),
      );
      const plaintext = Buffer.from('client data').toString('base64');
      const before = (await agent.write(`transit/encrypt/fleet-${id}`, { plaintext })) as {
        data: { ciphertext: string };
      };
      assert.match(before.data.ciphertext, /^vault:v1:/);
      assert.deepEqual(await target.store.rotateDataKey(id), { version: 2 });
      const decrypted = (await agent.write(`transit/decrypt/fleet-${id}`, {
        ciphertext: before.data.ciphertext,
      })) as { data: { plaintext: string } };
      assert.equal(decrypted.data.plaintext, plaintext);
      const afterRotation = (await agent.write(`transit/encrypt/fleet-${id}`, { plaintext })) as {
        data: { ciphertext: string };
      };
      assert.match(afterRotation.data.ciphertext, /^vault:v2:/);
      const rewrapped = (await agent.write(`transit/rewrap/fleet-${id}`, {
        ciphertext: before.data.ciphertext,
      })) as { data: { ciphertext: string } };
      assert.match(rewrapped.data.ciphertext, /^vault:v2:/);
    });

    void test("issuing introductions leaves the orchestrator's own token unchanged and valid", async (t) => {
      const id = await newClient(t);
      const tokenBefore = target.adminClient.token;
      const selfBefore = (await target.adminClient.read('auth/token/lookup-self')) as {
        data: { accessor: string };
      };
      const intros = [
        await target.store.issueAgentIntroduction(id),
        await target.store.issueAgentIntroduction(id),
      ];
      assert.equal(target.adminClient.token, tokenBefore);
      const selfAfter = (await target.adminClient.read('auth/token/lookup-self')) as {
        data: { accessor: string };
      };
      assert.equal(selfAfter.data.accessor, selfBefore.data.accessor);
      for (const intro of intros) assert.notEqual(intro.tokenAccessor, selfBefore.data.accessor);
      assert.deepEqual(await target.store.revokeAgentTokens(id), { revoked: 2 });
    });

    void test('listSecrets shows names and versions, never values', async (t) => {
      const id = await newClient(t);
      assert.deepEqual(await target.store.listSecrets(id), []);
      await target.store.writeSecret(id, 'anthropic-api-key', 'sk-value-1');
      assert.deepEqual(await target.store.writeSecret(id, 'anthropic-api-key', 'sk-value-2'), { version: 2 });
      await target.store.writeSecret(id, 'gmail-oauth', 'oauth-value');
      const listed = await target.store.listSecrets(id);
      assert.deepEqual(
        listed.map(({ name, version }) => ({ name, version })),
        [
          { name: 'anthropic-api-key', version: 2 },
          { name: 'gmail-oauth', version: 1 },
        ],
      );
      assert.ok(!JSON.stringify(listed).includes('value'));
      await assert.rejects(
        target.store.writeSecret(id, '../other/x', 'v'),
        (error: unknown) => isFleetError(error) && error.code === 'invalid_input',
      );
    });

    void test('the agent secret source redeems its introduction, reads its secrets and keeps only a wrapped data key on disk', async (t) => {
      const id = await newClient(t);
      await target.store.writeSecret(id, 'api-key', 'agent-visible-value');
      const keyFile = join(workDir, `${id}-data-key.wrapped`);
      const startSource = async () => {
        const intro = await target.store.issueAgentIntroduction(id);
        const source = new VaultSecretSource({
          clientId: id,
          vaultAddr: target.vaultAddr,
          caPem: target.caPem,
          wrappingToken: intro.wrappingToken,
          wrappedKeyFile: keyFile,
          logger: createSilentLogger(),
        });
        t.after(() => source.stop());
        await source.start();
        return source;
      };
      const first = await startSource();
      assert.equal((await first.readSecrets()).get('api-key'), 'agent-visible-value');
      await first.writeSecret('oauth-refresh', 'refreshed');
      assert.equal((await target.store.listSecrets(id)).find((s) => s.name === 'oauth-refresh')?.version, 1);
      assert.ok((await first.renewNow()) > 0);
      const key = Buffer.from(first.dataKey());
      assert.equal(key.length, 32);
      const onDisk = await readFile(keyFile, 'utf8');
      assert.match(onDisk, /^vault:v1:/);
      assert.ok(!onDisk.includes(key.toString('base64')) && !onDisk.includes(key.toString('hex')));

      await target.store.rotateDataKey(id);
      const second = await startSource();
      assert.deepEqual(second.dataKey(), key, 'the same data key after a restart and a rotation');
      assert.match(
        await readFile(keyFile, 'utf8'),
        /^vault:v2:/,
        'the stored key is rewrapped under the new version',
      );
    });

    void test('the agent secret source refuses an introduction from another creation path without consuming it', async (t) => {
      const a = await newClient(t);
      const b = await newClient(t);
      const introB = await target.store.issueAgentIntroduction(b);
      const source = new VaultSecretSource({
        clientId: a,
        vaultAddr: target.vaultAddr,
        caPem: target.caPem,
        wrappingToken: introB.wrappingToken,
        wrappedKeyFile: join(workDir, `${a}.wrapped`),
        logger: createSilentLogger(),
      });
      await assert.rejects(
        source.start(),
        (error: unknown) => isFleetError(error) && error.code === 'integrity',
      );
      assert.ok((await redeem(target, introB)).length > 0, 'the wrap is still unused');
    });

    void test('the agent secret source signals revocation when the store answers 403', async (t) => {
      const id = await newClient(t);
      const intro = await target.store.issueAgentIntroduction(id);
      const source = new VaultSecretSource({
        clientId: id,
        vaultAddr: target.vaultAddr,
        caPem: target.caPem,
        wrappingToken: intro.wrappingToken,
        wrappedKeyFile: join(workDir, `${id}.wrapped`),
        logger: createSilentLogger(),
      });
      t.after(() => source.stop());
      await source.start();
      const reasons: string[] = [];
      source.onRevoked((reason) => reasons.push(reason));
      await target.store.revokeAgentTokens(id);
      await assert.rejects(
        source.readSecrets(),
        (error: unknown) => isFleetError(error) && error.code === 'killed',
      );
      assert.equal(source.revoked, true);
      assert.equal(reasons.length, 1);
      assert.throws(
        () => source.dataKey(),
        (error: unknown) => isFleetError(error) && error.code === 'killed',
      );
    });

    void test('removeClient deletes secrets, policy, role and key, and is idempotent', async (t) => {
      const id = await newClient(t);
      await target.store.writeSecret(id, 'api-key', 'to-be-removed');
      await target.store.issueAgentIntroduction(id);
      await target.store.removeClient(id);
      await target.store.removeClient(id);
      assert.deepEqual(await target.store.listSecrets(id), []);
      await expectStatus(
        target.adminClient.read(`transit/keys/fleet-${id}`),
        404,
        'transit key after removal',
      );
      await expectStatus(target.adminClient.read(`fleet/data/${id}/api-key`), 404, 'secret after removal');
      await assert.rejects(target.adminClient.read(`sys/policies/acl/fleet-${id}`));
      await assert.rejects(target.store.issueAgentIntroduction(id));
    });
  });
}
