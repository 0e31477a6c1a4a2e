// A running agent and an admin both write the client's mailbox grant and model key in Vault: the agent a
// refresh token the provider rotated, the admin a new grant or key (`fleet secrets set`). The stored value
// is the truth: the agent picks up what the admin stored without a restart, and its write-backs use
// check-and-set, so they never overwrite what the admin stored after the agent last read it. Runs against
// the embedded Vault, the Gmail, Graph and Anthropic emulators, all in process on loopback. A Gmail grant
// is checked for its account before use: the agent takes the admin's at its next connect, a round later.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { connectorsFromSecrets, type ConnectorEndpoints } from '../../../agent-image/src/adapters/connectors-from-secrets.ts';
import { LiveSecret } from '../../../agent-image/src/adapters/vault/live-secret.ts';
import { VaultSecretSource } from '../../../agent-image/src/adapters/vault/vault-secret-source.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { ProviderAuthError } from '../../../agent-image/src/ports/mail-provider.ts';
import { AgentRuntime } from '../../../agent-image/src/services/runtime/agent-runtime.ts';
import type { Connectors } from '../../../agent-image/src/services/runtime/connectors.ts';
import { startEmbeddedVault, type EmbeddedVault } from '../../../orchestrator/src/adapters/embedded-vault/start-embedded-vault.ts';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { VaultSecretStore } from '../../../orchestrator/src/adapters/vault/vault-secret-store.ts';
import { AnthropicEmulator } from '../../emulators/anthropic-emulator.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { testFleetCa } from '../../helpers/agent-tls.ts';

const PERMISSIONS = { 'mail.read': true };

describe('the agent keeps its mailbox grant and model key as stored in Vault', () => {
  let dataDir: string;
  let vault: EmbeddedVault;
  let store: VaultSecretStore;
  let clients = 0;
  const sources: VaultSecretSource[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'secrets-freshness-'));
    vault = await startEmbeddedVault({ dataDir, listen: [{ host: '127.0.0.1', port: 0 }], logger: createSilentLogger(), certificates: await testFleetCa() });
    store = new VaultSecretStore({ client: createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem }), logger: createSilentLogger() });
  });
  after(async () => {
    for (const source of sources) await source.stop();
    await vault?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A new client in Vault and its agent's secret source, introduced. */
  async function agentSource(): Promise<{ id: ClientId; source: VaultSecretSource }> {
    const id = parseClientId(`fresh-${++clients}`);
    await store.ensureClient(id);
    const intro = await store.issueAgentIntroduction(id);
    const source = new VaultSecretSource({
      clientId: id,
      vaultAddr: vault.url,
      caPem: vault.caCertificatePem,
      wrappingToken: intro.wrappingToken,
      wrappedKeyFile: join(dataDir, `${id}-data-key.wrapped`),
      logger: createSilentLogger(),
    });
    sources.push(source);
    await source.start();
    return { id, source };
  }

  function config(provider: 'gmail' | 'outlook', mailbox: string): ClientConfig {
    const parsed = parseClientConfig({ client: 'acme', provider, mailbox, admins: ['ops@acme.example'], permissions: PERMISSIONS });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    return parsed.config;
  }

  async function connect(source: VaultSecretSource, provider: 'gmail' | 'outlook', mailbox: string, endpoints: ConnectorEndpoints): Promise<Connectors> {
    const built = await connectorsFromSecrets(endpoints)({ config: config(provider, mailbox), secrets: await source.readSecrets(), source, logger: createSilentLogger() });
    if ('missing' in built) throw new Error(`missing ${built.missing.join(', ')}`);
    return built;
  }

  const grant = (emulator: { clientId: string; clientSecret: string }, refreshToken: string) =>
    JSON.stringify({ client_id: emulator.clientId, client_secret: emulator.clientSecret, refresh_token: refreshToken });
  const storedRefreshToken = async (source: VaultSecretSource, name: string) =>
    (JSON.parse((await source.readSecretData(name))?.['value'] ?? '{}') as { refresh_token?: string }).refresh_token;
  const storedRefreshTokenOf = async (id: ClientId) => {
    const admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    const read = (await admin.read(`fleet/data/${id}/gmail`)) as { data: { data: { value: string } } };
    return (JSON.parse(read.data.data.value) as { refresh_token?: string }).refresh_token;
  };
  const modelKey = () => `test-key-${randomBytes(8).toString('hex')}`;

  test('a rotated refresh token is not written over a grant the admin stored after the agent read it', async () => {
    const { id, source } = await agentSource();
    await store.writeSecret(id, 'outlook', JSON.stringify({ client_id: 'app', client_secret: 'app-secret', refresh_token: 'first' }));
    const cell = await LiveSecret.load(source, 'outlook', '');
    const admins = JSON.stringify({ client_id: 'app', client_secret: 'app-secret', refresh_token: 'set-by-admin' });
    await store.writeSecret(id, 'outlook', admins);
    assert.equal(await cell.writeBack(JSON.stringify({ client_id: 'app', client_secret: 'app-secret', refresh_token: 'rotated' })), 'superseded');
    assert.equal((await source.readSecretData('outlook'))?.['value'], admins, 'the admin’s grant is kept');
    assert.equal(cell.value, admins, 'and is the one in hand now');
    assert.equal(await cell.writeBack(JSON.stringify({ client_id: 'app', client_secret: 'app-secret', refresh_token: 'rotated-2' })), 'written');
    assert.equal(await storedRefreshToken(source, 'outlook'), 'rotated-2');
  });

  test('the embedded Vault refuses a check-and-set write at a stale version, and options that are not an object', async () => {
    const { id } = await agentSource();
    const admin = createVaultClient({ endpoint: vault.url, token: vault.rootToken, caPem: vault.caCertificatePem });
    const path = `fleet/data/${id}/cas-probe`;
    await admin.write(path, { data: { value: 'one' }, options: { cas: 0 } });
    const refused = (status: number) => (error: unknown) => (error as { response?: { statusCode?: number } }).response?.statusCode === status;
    await assert.rejects(admin.write(path, { data: { value: 'two' }, options: { cas: 0 } }), refused(400));
    await assert.rejects(admin.write(path, { data: { value: 'two' }, options: 'cas=0' }), refused(400));
    await assert.rejects(admin.write(path, { data: { value: 'two' }, options: [1] }), refused(400));
    await admin.write(path, { data: { value: 'two' }, options: { cas: 1 } });
    const read = (await admin.read(path)) as { data: { data: { value: string }; metadata: { version: number } } };
    assert.deepEqual([read.data.data.value, read.data.metadata.version], ['two', 2]);
  });

  test('Outlook: a grant the admin stores while the agent runs is the one it refreshes with, and its rotation is stored', async () => {
    const graph = new GraphEmulator();
    await graph.start();
    try {
      const { id, source } = await agentSource();
      const scopes = graphScopesFor(PERMISSIONS);
      await store.writeSecret(id, 'outlook', grant(graph, graph.issueRefreshToken(scopes)));
      await store.writeSecret(id, 'anthropic', modelKey());
      const built = await connect(source, 'outlook', graph.mailbox, { graphBaseUrl: graph.baseUrl, graphTokenUrl: graph.tokenUrl });
      await built.provider.listChangesSince(null);
      // The admin reconnects: a new consent, and the old one revoked at Microsoft.
      graph.revokeConsent();
      const reconnected = graph.issueRefreshToken(scopes);
      await store.writeSecret(id, 'outlook', grant(graph, reconnected));
      await built.provider.listChangesSince(null);
      const used = graph.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).map((r) => new URLSearchParams(r.body).get('refresh_token'));
      assert.ok(used.includes(reconnected), 'the admin’s grant was used');
      // Microsoft rotated it: the rotation went back to Vault (check-and-set), and it is what works next.
      const stored = await storedRefreshToken(source, 'outlook');
      assert.ok(stored !== undefined && stored !== reconnected);
      graph.invalidateAccessTokens();
      await built.provider.listChangesSince(null);
      assert.equal(new URLSearchParams(graph.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token')).at(-1)?.body).get('refresh_token'), stored);
    } finally {
      await graph.stop();
    }
  });

  test('Gmail: a grant the admin stores while the agent runs is used only once the agent connected again and checked its account, without a restart', async () => {
    const gmail = new GmailEmulator();
    await gmail.start();
    const dataDir = await mkdtemp(join(tmpdir(), 'gmail-grant-runtime-'));
    let runtime: AgentRuntime | null = null;
    try {
      const id = parseClientId(`fresh-${++clients}`);
      await store.ensureClient(id);
      const scopes = gmailScopesFor(PERMISSIONS);
      await store.writeSecret(id, 'gmail', grant(gmail, gmail.issueRefreshToken(scopes)));
      await store.writeSecret(id, 'anthropic', modelKey());
      runtime = new AgentRuntime({
        config: { ...config('gmail', gmail.mailbox), client: id },
        dataDir,
        vaultAddr: vault.url,
        logger: createSilentLogger(),
        metrics: new AgentMetrics(new Registry(), { client: id, version: '1.0.0' }),
        secretSource: (input) => {
          if (!('wrappingToken' in input)) throw new Error('introduced by a wrapped token only');
          const source = new VaultSecretSource({ clientId: id, vaultAddr: input.vaultAddr, caPem: vault.caCertificatePem, wrappingToken: input.wrappingToken, wrappedKeyFile: input.wrappedKeyFile, logger: createSilentLogger() });
          sources.push(source);
          return source;
        },
        connectors: connectorsFromSecrets({ gmailRootUrl: gmail.rootUrl, gmailTokenUrl: gmail.tokenUrl }),
        syncIntervalMs: 0,
        sweepIntervalMs: 0,
        scheduleSummary: false,
        watchCheckIntervalMs: 0,
      });
      const intro = await store.issueAgentIntroduction(id);
      await runtime.introduce({ wrappingToken: intro.wrappingToken, creationPath: intro.creationPath });
      await runtime.tick();
      assert.equal(runtime.status().connection, 'gmail');

      // The admin reconnects: a new consent, and the old one revoked at Google.
      gmail.revokeConsent();
      const reconnected = gmail.issueRefreshToken(scopes);
      await store.writeSecret(id, 'gmail', grant(gmail, reconnected));
      const refreshedWith = () => gmail.requests.filter((r) => r.path === '/token').map((r) => new URLSearchParams(r.body).get('refresh_token'));
      await runtime.tick();
      assert.ok(!refreshedWith().includes(reconnected), 'the new grant is not used before its account is checked');
      assert.equal(runtime.status().connection, 'account unconfirmed');
      assert.equal(runtime.status().paused, null, 'a grant replaced is no refused credential: no pause');

      const before = gmail.requests.length;
      await runtime.tick();
      const next = gmail.requests.slice(before).map((r) => (r.path === '/token' ? `token ${new URLSearchParams(r.body).get('refresh_token') === reconnected ? 'new' : 'other'}` : `${r.method} ${r.path}`));
      assert.deepEqual(next.slice(0, 2), ['token new', 'GET /gmail/v1/users/me/profile'], 'the next round connects with it and asks its account first');
      assert.equal(runtime.status().connection, 'gmail');
      assert.equal(runtime.status().paused, null);
      assert.notEqual(runtime.status().lastSync, null);
      const stored = await storedRefreshTokenOf(id);
      assert.ok(stored !== undefined && gmail.refreshTokenActive(stored), 'the stored grant (the rotation of the new one) still works');
    } finally {
      await runtime?.stop();
      await gmail.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a model key the admin stores while the agent runs is used once the API refuses the old one', async () => {
    const newKey = modelKey();
    const anthropic = new AnthropicEmulator({ apiKey: newKey });
    await anthropic.start();
    const graph = new GraphEmulator();
    await graph.start();
    try {
      const { id, source } = await agentSource();
      await store.writeSecret(id, 'outlook', grant(graph, graph.issueRefreshToken(graphScopesFor(PERMISSIONS))));
      await store.writeSecret(id, 'anthropic', modelKey());
      const built = await connect(source, 'outlook', graph.mailbox, { graphBaseUrl: graph.baseUrl, graphTokenUrl: graph.tokenUrl, anthropicBaseUrl: anthropic.url });
      await store.writeSecret(id, 'anthropic', newKey);
      const email = { from: 'sam@customer.example', to: ['agent@acme.example'], cc: [], subject: 'Hello', date: null, body: 'Are you free on Tuesday?' };
      const outcome = await built.llm.classify(email).then(
        () => null,
        (error: unknown) => error,
      );
      // The emulator has no scripted answer (a 500 after the key was accepted): what matters is who got in.
      assert.ok(!(outcome instanceof ProviderAuthError), `the new key was taken (${String(outcome)})`);
      const accepted = anthropic.requests.filter((r) => r.status !== 401).map((r) => r.headers['x-api-key'] ?? r.headers['authorization']);
      assert.ok(accepted.length > 0 && accepted.every((key) => String(key).endsWith(newKey)), 'with the key the admin stored');
    } finally {
      await anthropic.stop();
      await graph.stop();
    }
  });
});
