// The orchestrator read VAULT_TOKEN_FILE once, at start: a token rotated by placing a new file (a Kubernetes
// Secret mount changing under the running service) was never picked up, and every Vault call failed with 403
// until a restart. Its client now reads the file again at a 403 and makes the call once more with a token
// that changed; a refusal with the same token (or none placed) still fails, once.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { startEmbeddedVault, type EmbeddedVault } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { adminVaultClient } from '../../../orchestrator/src/adapters/vault/admin-vault-client.ts';
import { createVaultClient, vaultStatusOf, type VaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { testFleetCa } from '../../helpers/agent-tls.ts';

describe("the orchestrator's Vault token file, rotated under a running service", () => {
  let dir: string;
  let vault: EmbeddedVault;
  let root: VaultClient;
  let tokenFile: string;
  let caFile: string;

  /** A fresh token of the store's (what an operator's rotation places); its accessor revokes it. */
  async function issueToken(): Promise<{ token: string; accessor: string }> {
    const created = (await root.write('auth/token/create', { ttl: '1h' })) as { auth: { client_token: string; accessor: string } };
    return { token: created.auth.client_token, accessor: created.auth.accessor };
  }
  const revoke = (accessor: string) => root.write('auth/token/revoke-accessor', { accessor });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vault-token-rotation-'));
    vault = await startEmbeddedVault({ dataDir: join(dir, 'vault'), listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger(), certificates: await testFleetCa() });
    root = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    tokenFile = join(dir, 'token');
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, vault.caCertificatePem);
  });
  after(async () => {
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The orchestrator's admin client, as compose-incidents and compose-data-lifecycle build it for an external Vault. */
  const orchestratorClient = () =>
    adminVaultClient({ vault: { kind: 'external', address: vault.url, tokenFile, agentAddress: vault.url, caCertFile: caFile } }, { embedded: null });

  /** A client started on a first placed token, then a second token placed over it and the first revoked. */
  async function rotatedUnderClient() {
    const first = await issueToken();
    await writeFile(tokenFile, first.token);
    const client = await orchestratorClient();
    const second = await issueToken();
    await writeFile(tokenFile, second.token);
    await revoke(first.accessor);
    return { first, second, client };
  }

  test('a call refused after a rotation is made again with the token the file holds now', async () => {
    const first = await issueToken();
    await writeFile(tokenFile, `${first.token}\n`);
    const client = await orchestratorClient();
    const whoAmI = async () => ((await client.read('auth/token/lookup-self')) as { data: { accessor: string } }).data.accessor;
    assert.equal(await whoAmI(), first.accessor);

    const second = await issueToken();
    await writeFile(tokenFile, `${second.token}\n`);
    await revoke(first.accessor);
    assert.equal(await whoAmI(), second.accessor, 'the refused call was made again with the placed token');
    assert.equal(client.token, second.token, 'and the placed token is kept for the calls after');
  });

  test('a refused token that the file still holds fails the call, once', async () => {
    const only = await issueToken();
    await writeFile(tokenFile, only.token);
    const client = await orchestratorClient();
    await revoke(only.accessor);
    const served = vault.requestLog.entries().length;
    await assert.rejects(client.read('auth/token/lookup-self'), (error: unknown) => vaultStatusOf(error) === 403);
    assert.equal(vault.requestLog.entries().length - served, 1, 'not made again with the same token');
  });

  test('a placed token that is refused too fails the call after one more try', async () => {
    const { second, client } = await rotatedUnderClient();
    await revoke(second.accessor);
    const served = vault.requestLog.entries().length;
    await assert.rejects(client.read('auth/token/lookup-self'), (error: unknown) => vaultStatusOf(error) === 403);
    assert.equal(vault.requestLog.entries().length - served, 2);
  });

  test('a file that cannot be read at the refusal fails the call as refused', async () => {
    const only = await issueToken();
    await writeFile(tokenFile, only.token);
    const client = await orchestratorClient();
    await revoke(only.accessor);
    await rm(tokenFile);
    await assert.rejects(client.read('auth/token/lookup-self'), (error: unknown) => vaultStatusOf(error) === 403 && !isFleetError(error));
  });

  test("a call made with its caller's own token is not retried with the file's", async () => {
    const { first, client } = await rotatedUnderClient();
    const stranger = await issueToken();
    await revoke(stranger.accessor);
    await assert.rejects(
      client.read('auth/token/lookup-self', { headers: { 'X-Vault-Token': stranger.token } }),
      (error: unknown) => vaultStatusOf(error) === 403,
    );
    assert.equal(client.token, first.token, 'the file was not read for a call that did not use the client token');
  });
});
