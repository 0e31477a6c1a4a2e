// A Vault answer without the field the call exists for (a secret's version, a data key's latest version) used
// to fail with "vault did not return …": true, but on-call could not tell whether the change took effect or
// what to look at. The refusal now says the change went through and where to check.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { startEmbeddedVault, type EmbeddedVault } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { createVaultClient, type VaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultSecretStore } from '../../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import { testFleetCa } from '../../helpers/agent-tls.ts';

describe('Vault answers missing the field asked for', () => {
  let dir: string;
  let vault: EmbeddedVault;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vault-malformed-'));
    vault = await startEmbeddedVault({ dataDir: join(dir, 'vault'), listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger(), certificates: await testFleetCa() });
  });
  after(async () => {
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A store whose answers to `method` calls are emptied after the real call ran. */
  async function storeEmptying(t: TestContext, method: 'write' | 'read', path: RegExp): Promise<{ id: ClientId; store: VaultSecretStore; plain: VaultSecretStore }> {
    const client: VaultClient = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    const real = client[method].bind(client) as (target: string, ...rest: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[method] = async (target: string, ...rest: unknown[]) => {
      const answer = await real(target, ...rest);
      return path.test(target) ? { data: {} } : answer;
    };
    const plain = new VaultSecretStore({ client: createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem }), logger: createSilentLogger() });
    const id = parseClientId(`vm-${randomBytes(4).toString('hex')}`);
    await plain.ensureClient(id);
    t.after(() => plain.removeClient(id));
    return { id, store: new VaultSecretStore({ client, logger: createSilentLogger() }), plain };
  }

  test('a secret written without a version in the answer: the write stands, and the error says where to look', async (t) => {
    const { id, store, plain } = await storeEmptying(t, 'write', /\/data\/.*\/crm-key$/);
    await assert.rejects(store.writeSecret(id, 'crm-key', 'value-1'), (error: unknown) => {
      assert.ok(error instanceof FleetError);
      assert.match(error.message, /Vault took the write of secret "crm-key"/);
      assert.match(error.message, /KV v2 mount/);
      assert.match(error.message, new RegExp(`fleet secrets list ${id}`));
      return true;
    });
    assert.deepEqual((await plain.listSecrets(id)).map((s) => [s.name, s.version]), [['crm-key', 1]]);
  });

  test('a data key read back without latest_version: the rotation stands, and the error names the key to read', async (t) => {
    const { id, store } = await storeEmptying(t, 'read', /^transit\/keys\/[^/]+$/);
    await assert.rejects(store.rotateDataKey(id), (error: unknown) => {
      assert.ok(error instanceof FleetError);
      assert.match(error.message, new RegExp(`rotated the data key of ${id}`));
      assert.match(error.message, /vault read transit\/keys\//);
      return true;
    });
  });
});
