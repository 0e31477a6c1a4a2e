// The control token is two records: the token in the orchestrator's own mount and its SHA-256 in the client's
// path, which the agent checks bearers against. The token used to be written first and the hash second, so a
// Vault failure between the two (or a lost answer, or two orchestrators issuing at once) left the orchestrator
// holding a token the agent refuses, and the agent refusing the only token anyone had: locked out of the
// agent's control API until a rotation went through. Whatever happens to an issuance now, the token the
// orchestrator reads is the one whose hash is published.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
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

type Write = VaultClient['write'];
/** Runs instead of a write to the matching path: `write` performs the real one. */
type Interception = (write: () => ReturnType<Write>) => ReturnType<Write>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('control token issuance interrupted half-way (embedded Vault)', () => {
  let dir: string;
  let vault: EmbeddedVault;
  let root: VaultClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'control-token-issuance-'));
    vault = await startEmbeddedVault({ dataDir: join(dir, 'vault'), listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger(), certificates: await testFleetCa() });
    root = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
  });
  after(async () => {
    await vault.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A store on its own client whose writes to paths matching `path` go through `intercept` (once each, in order). */
  function storeWith(path: RegExp, ...intercepts: Interception[]): VaultSecretStore {
    const client = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    const write = client.write.bind(client);
    client.write = ((target: string, ...rest: Parameters<Write> extends [string, ...infer R] ? R : never) => {
      const real = () => write(target, ...rest);
      const intercept = path.test(target) ? intercepts.shift() : undefined;
      return intercept === undefined ? real() : intercept(real);
    }) as Write;
    return new VaultSecretStore({ client, logger: createSilentLogger() });
  }

  async function newClient(t: TestContext): Promise<{ id: ClientId; plain: VaultSecretStore }> {
    const id = parseClientId(`ct-${randomBytes(4).toString('hex')}`);
    const plain = new VaultSecretStore({ client: root, logger: createSilentLogger() });
    t.after(() => plain.removeClient(id));
    await plain.ensureClient(id);
    return { id, plain };
  }

  /** The hash the agent checks bearers against. */
  async function publishedHash(id: ClientId): Promise<string> {
    const record = (await root.read(`fleet/data/${id}/control`)) as { data: { data: { token_sha256: string } } };
    return record.data.data.token_sha256;
  }

  const unavailable = () => Promise.reject(new FleetError('unavailable', 'vault: 503 (injected)'));
  const hashPath = (id: ClientId) => new RegExp(`^fleet/data/${id}/control$`);
  const recordPath = (id: ClientId) => new RegExp(`^fleet-system/data/control-tokens/${id}$`);

  test('a failed hash publication leaves the orchestrator holding the token the agent accepts (the old one)', async (t) => {
    const { id, plain } = await newClient(t);
    const old = await plain.issueControlToken(id);
    const store = storeWith(hashPath(id), unavailable);
    await assert.rejects(store.issueControlToken(id), /injected/);
    assert.equal(await plain.readControlToken(id), old);
    assert.equal(sha256(old), await publishedHash(id));
  });

  test('a hash publication whose answer was lost leaves the orchestrator holding the new token the agent accepts', async (t) => {
    const { id, plain } = await newClient(t);
    const old = await plain.issueControlToken(id);
    const store = storeWith(hashPath(id), async (write) => {
      await write();
      throw new FleetError('unavailable', 'vault: socket hang up (injected)');
    });
    await assert.rejects(store.issueControlToken(id), /injected/);
    const held = await plain.readControlToken(id);
    assert.ok(held !== null && held !== old, 'the new token is the one held');
    assert.equal(sha256(held), await publishedHash(id));
  });

  test('an issuance that fails after publishing its hash still reads as the new token', async (t) => {
    const { id, plain } = await newClient(t);
    const old = await plain.issueControlToken(id);
    // The first record write stages the token; the second, after the hash is published, fails.
    const store = storeWith(recordPath(id), (write) => write(), unavailable);
    await assert.rejects(store.issueControlToken(id), /injected/);
    const held = await plain.readControlToken(id);
    assert.notEqual(held, old);
    assert.equal(sha256(held ?? ''), await publishedHash(id));
  });

  test('two orchestrators issuing at once: one wins, the other fails as a conflict, and the token held is the published one', async (t) => {
    const { id, plain } = await newClient(t);
    await plain.issueControlToken(id);
    const recordVersion = async () =>
      ((await root.read(`fleet-system/data/control-tokens/${id}`)) as { data: { metadata: { version: number } } }).data.metadata.version;
    const versionBefore = await recordVersion();
    let releaseFirst!: () => void;
    const secondDone = new Promise<void>((resolve) => (releaseFirst = resolve));
    // The first issuance publishes its hash only after the second has finished entirely.
    const first = storeWith(hashPath(id), async (write) => {
      await secondDone;
      return write();
    });
    let firstSettled = false;
    const firstIssued = first.issueControlToken(id).then(
      (token) => ({ token, error: null }),
      (error: unknown) => ({ token: null, error }),
    ).finally(() => (firstSettled = true));
    // Let the first get as far as its hash publication (its token is written to the record by then).
    while (!firstSettled && (await recordVersion()) === versionBefore) await new Promise((resolve) => setImmediate(resolve));
    const second = await plain.issueControlToken(id).finally(releaseFirst);
    const { error } = await firstIssued;
    assert.ok(error instanceof FleetError && error.code === 'conflict', String(error));
    assert.match(error.message, /rotate again/);
    assert.equal(await plain.readControlToken(id), second);
    assert.equal(sha256(second), await publishedHash(id));
  });

  test('a first issuance (provisioning) reads back as issued', async (t) => {
    const { id, plain } = await newClient(t);
    assert.equal(await plain.readControlToken(id), null);
    const token = await plain.issueControlToken(id);
    assert.equal(await plain.readControlToken(id), token);
    assert.equal(sha256(token), await publishedHash(id));
  });

  test('a control hash deleted meanwhile (its versions kept) does not stop the next issuance', async (t) => {
    const { id, plain } = await newClient(t);
    await plain.issueControlToken(id);
    await root.delete(`fleet/data/${id}/control`);
    const token = await plain.issueControlToken(id);
    assert.equal(await plain.readControlToken(id), token);
    assert.equal(sha256(token), await publishedHash(id));
  });
});
