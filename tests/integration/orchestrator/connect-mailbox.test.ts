import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { consentForProvider } from '../../../orchestrator/src/adapters/oauth/consent-for-provider.ts';
import { listenForRedirect } from '../../../orchestrator/src/adapters/oauth/loopback-redirect-listener.ts';
import { FleetApiClient, mailboxConnectTarget } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { vaultNames } from '../../../orchestrator/src/adapters/vault/client-policy.ts';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import type { MailboxProvider } from '../../../orchestrator/src/ports/oauth-consent.ts';
import { ConnectMailboxService, type ConnectMailboxResult } from '../../../orchestrator/src/services/connect-mailbox.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { enrolMember } from '../../helpers/team-session.ts';

const G = 'https://www.googleapis.com/auth/';

/**
 * `fleet connect` end to end without a browser: a real orchestrator service (registry, embedded Vault
 * store, API on its unix socket), the Gmail and Graph emulators as identity providers, and the test
 * playing the browser. No agent container is needed: the result is read back from the secret store.
 */
describe('fleet connect: OAuth consent stores the mailbox tokens', () => {
  let fleet: FleetFixture;
  let socketServer: Server;
  let api: OrchestratorClient;
  const gmail = new GmailEmulator({ clientId: 'ops-app.apps.googleusercontent.com', clientSecret: 'gmail-app-secret-123' });
  const graph = new GraphEmulator({ tenant: 'contoso.example' });

  before(async () => {
    fleet = await createFleetFixture();
    const socketPath = fleet.config.api.socketPath;
    socketServer = await listenUnixSocket(createSocketApp(fleet.orchestrator, createSilentLogger()), socketPath);
    // The operator signed in as the team member the ops log names.
    const member = await enrolMember(fleet.orchestrator, 'ops@test');
    await member.useForCli(fleet.homeDir);
    api = new OrchestratorClient({ socketPath, homeDir: fleet.homeDir, sessionToken: member.token });
    await Promise.all([gmail.start(), graph.start()]);
  });

  after(async () => {
    await new Promise<void>((resolve) => socketServer.close(() => resolve()));
    await Promise.all([gmail.stop(), graph.stop()]);
    await fleet.cleanup([]);
  });

  /** A registered client with its Vault path, as provisioning leaves it (no container needed here). */
  async function registerClient(provider: MailboxProvider, permissions: Record<string, boolean>): Promise<ClientId> {
    const clientId = uniqueClientId('oc');
    const configYaml = `client: ${clientId}\nprovider: ${provider}\npermissions: ${JSON.stringify(permissions)}\n`;
    const claim = await fleet.orchestrator.registry.claimForProvisioning(
      { id: clientId, provider, admins: [], configYaml, onboardingStartedAt: new Date().toISOString() },
      `op-${clientId}`,
      new Date(),
      60_000,
    );
    assert.equal(claim.outcome, 'claimed');
    await fleet.orchestrator.secretBackend.store.ensureClient(clientId);
    return clientId;
  }

  function service(): ConnectMailboxService {
    return new ConnectMailboxService({
      target: mailboxConnectTarget(new FleetApiClient(api, 'ops@test')),
      consentFor: consentForProvider({
        googleAuthorizationUrl: `${new URL(gmail.tokenUrl).origin}/o/oauth2/v2/auth`,
        googleTokenUrl: gmail.tokenUrl,
        microsoftAuthorityHost: graph.baseUrl,
      }),
      listen: (port) => listenForRedirect(port === undefined ? {} : { port }),
      logger: createSilentLogger(),
    });
  }

  interface Browser {
    /** The page the listener answered, or null when the browser never went there. */
    page: Promise<{ status: number; text: string } | null>;
    redirectUri: Promise<string>;
  }

  /** The operator opens the printed URL: the consent page redirects (302) to the loopback listener. */
  function connect(
    clientId: ClientId,
    provider: MailboxProvider,
    options: { timeoutMs?: number; tenant?: string; tamper?: (location: URL) => void; visit?: boolean } = {},
  ): { result: Promise<ConnectMailboxResult>; browser: Browser; warnings: string[] } {
    const warnings: string[] = [];
    let onUrl!: (value: { url: string; redirectUri: string }) => void;
    const printed = new Promise<{ url: string; redirectUri: string }>((resolve) => (onUrl = resolve));
    const emulator = provider === 'gmail' ? gmail : graph;
    const result = service().connect(
      {
        clientId,
        provider,
        oauthClient: { clientId: emulator.clientId, clientSecret: emulator.clientSecret, ...(options.tenant ? { tenant: options.tenant } : {}) },
        timeoutMs: options.timeoutMs ?? 10_000,
      },
      { authorizationUrl: (url, redirectUri) => onUrl({ url, redirectUri }), warning: (message) => warnings.push(message) },
    );
    const page = printed.then(async ({ url }) => {
      if (options.visit === false) return null;
      const consent = await fetch(url, { redirect: 'manual' });
      assert.equal(consent.status, 302, `consent page answered ${consent.status}: ${await consent.text()}`);
      const location = new URL(consent.headers.get('location') ?? '');
      options.tamper?.(location);
      const answer = await fetch(location);
      return { status: answer.status, text: await answer.text() };
    });
    return { result, browser: { page, redirectUri: printed.then((p) => p.redirectUri) }, warnings };
  }

  async function storedSecret(clientId: ClientId, name: string): Promise<Record<string, string> | null> {
    const embedded = fleet.orchestrator.secretBackend.embedded!;
    const vault = createVaultClient({ endpoint: embedded.url, token: embedded.rootToken, caPem: embedded.caCertificatePem });
    try {
      const response = (await vault.read(`${vaultNames(clientId).dataPrefix}${name}`)) as { data: { data: { value: string } } };
      return JSON.parse(response.data.data.value) as Record<string, string>;
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
      throw error;
    }
  }

  async function secretNames(clientId: ClientId): Promise<string[]> {
    return (await fleet.orchestrator.secretBackend.store.listSecrets(clientId)).map((s) => s.name);
  }

  async function refresh(tokenUrl: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(tokenUrl, { method: 'POST', body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function listenerClosed(redirectUri: string): Promise<boolean> {
    return fetch(redirectUri).then(
      () => false,
      () => true,
    );
  }

  const rejectsWith = (code: string, pattern: RegExp) => (error: unknown) => {
    assert.ok(isFleetError(error), `expected a FleetError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };

  test('gmail: consent stores a working refresh token, asks for no send scope when sending is off, and is audited', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true, 'mail.draft': true, 'mail.label': true });
    gmail.authorizationCodes.behaviour = { kind: 'consent' };
    const { result, browser, warnings } = connect(clientId, 'gmail');
    const outcome = await result;
    const page = await browser.page;
    assert.equal(page?.status, 200);
    assert.match(page?.text ?? '', /close this window/);
    assert.ok(await listenerClosed(await browser.redirectUri), 'the listener is closed after the redirect');

    const requested = gmail.authorizationCodes.authorizations.at(-1)?.scopes ?? [];
    assert.deepEqual([...requested].sort(), [`${G}gmail.compose`, `${G}gmail.modify`, `${G}gmail.readonly`]);
    assert.ok(!requested.includes(`${G}gmail.send`));
    assert.deepEqual(warnings, []);

    const secret = await storedSecret(clientId, 'gmail');
    assert.ok(secret);
    assert.deepEqual(Object.keys(secret).sort(), ['client_id', 'client_secret', 'refresh_token']);
    assert.equal(secret.client_id, gmail.clientId);
    assert.equal(secret.client_secret, gmail.clientSecret);
    assert.equal(outcome.version, 1);

    const refreshed = await refresh(gmail.tokenUrl, {
      grant_type: 'refresh_token',
      client_id: secret.client_id!,
      client_secret: secret.client_secret!,
      refresh_token: secret.refresh_token!,
    });
    assert.equal(refreshed.status, 200);
    const profile = await fetch(`${gmail.rootUrl}gmail/v1/users/me/profile`, { headers: { authorization: `Bearer ${String(refreshed.body['access_token'])}` } });
    assert.equal(profile.status, 200, 'the Gmail API accepts the access token got from the stored refresh token');

    const log = await fleet.orchestrator.registry.listOpsLog({ clientId });
    const entry = log.find((e) => e.action === 'secret-write');
    assert.deepEqual(entry?.details, { name: 'gmail', version: 1 });
    assert.equal(entry?.actor, 'ops@test');
    assert.ok(!JSON.stringify(log).includes(secret.refresh_token!), 'no token in the ops log');
  });

  test('outlook: consent stores the refresh token with the tenant, without Mail.Send when sending is off', async () => {
    const clientId = await registerClient('outlook', { 'mail.read': true, 'mail.draft': true });
    const { result, browser } = connect(clientId, 'outlook', { tenant: graph.tenant });
    const outcome = await result;
    assert.equal((await browser.page)?.status, 200);
    const requested = graph.authorizationCodes.authorizations.at(-1)?.scopes ?? [];
    assert.deepEqual([...requested].sort(), ['Mail.ReadWrite', 'email', 'offline_access', 'openid'], 'the mail scope, and the sign-in scopes that name the consenting account');
    assert.ok(outcome.grantedScopes.includes('Mail.ReadWrite'));

    const secret = await storedSecret(clientId, 'outlook');
    assert.equal(secret?.tenant, graph.tenant);
    const refreshed = await refresh(graph.tokenUrl, {
      grant_type: 'refresh_token',
      client_id: secret!.client_id!,
      client_secret: secret!.client_secret!,
      refresh_token: secret!.refresh_token!,
      scope: 'Mail.ReadWrite offline_access',
    });
    assert.equal(refreshed.status, 200);
    const inbox = await fetch(`${graph.baseUrl}/v1.0/me/mailFolders/inbox/messages`, {
      headers: { authorization: `Bearer ${String(refreshed.body['access_token'])}` },
    });
    assert.equal(inbox.status, 200, 'Graph accepts the access token got from the stored refresh token');
  });

  test('outlook with sending on asks for Mail.Send', async () => {
    const clientId = await registerClient('outlook', { 'mail.read': true, 'mail.send': true });
    const { result } = connect(clientId, 'outlook', { tenant: graph.tenant });
    await result;
    assert.ok(graph.authorizationCodes.authorizations.at(-1)?.scopes.includes('Mail.Send'));
  });

  test('a redirect with the wrong state is refused, and the real one is still awaited and taken once', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    let onUrl!: (url: string) => void;
    const printed = new Promise<string>((resolve) => (onUrl = resolve));
    const result = service().connect(
      { clientId, provider: 'gmail', oauthClient: { clientId: gmail.clientId, clientSecret: gmail.clientSecret }, timeoutMs: 10_000 },
      { authorizationUrl: (url) => onUrl(url), warning: () => undefined },
    );
    const consent = await fetch(await printed, { redirect: 'manual' });
    const real = new URL(consent.headers.get('location') ?? '');
    const forged = new URL(real);
    forged.searchParams.set('state', 'forged-state');
    assert.equal((await fetch(forged)).status, 400, 'a callback without our state is refused');
    assert.deepEqual(await secretNames(clientId), [], 'nothing is stored on a forged callback');
    assert.equal((await fetch(real)).status, 200, 'the real callback still completes the flow');
    await result;
    assert.deepEqual(await secretNames(clientId), ['gmail']);
    await assert.rejects(fetch(real), 'the listener is closed after the real callback');
  });

  test('access_denied is a clear error and nothing is stored', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    gmail.authorizationCodes.behaviour = { kind: 'deny' };
    try {
      const { result, browser } = connect(clientId, 'gmail');
      await assert.rejects(result, rejectsWith('forbidden', /consent was denied/));
      assert.match((await browser.page)?.text ?? '', /consent was not given/);
    } finally {
      gmail.authorizationCodes.behaviour = { kind: 'consent' };
    }
    assert.deepEqual(await secretNames(clientId), []);
  });

  test('a consent that withholds a requested scope is refused naming it, and nothing is stored', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true, 'mail.draft': true });
    gmail.authorizationCodes.behaviour = { kind: 'withhold', scopes: [`${G}gmail.compose`] };
    try {
      const { result } = connect(clientId, 'gmail');
      await assert.rejects(result, rejectsWith('forbidden', /did not grant https:\/\/www\.googleapis\.com\/auth\/gmail\.compose/));
    } finally {
      gmail.authorizationCodes.behaviour = { kind: 'consent' };
    }
    assert.deepEqual(await secretNames(clientId), []);
  });

  test('no answer from the browser times out with a clear error and closes the listener', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    const { result, browser } = connect(clientId, 'gmail', { timeoutMs: 300, visit: false });
    await assert.rejects(result, rejectsWith('timeout', /no answer from the consent page/));
    assert.ok(await listenerClosed(await browser.redirectUri));
    assert.deepEqual(await secretNames(clientId), []);
  });

  test('the provider must match the client’s config, and the client must exist', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    await assert.rejects(connect(clientId, 'outlook', { visit: false }).result, rejectsWith('invalid_input', /uses gmail.*--provider gmail/));
    await assert.rejects(connect(parseClientId('nobody-here'), 'gmail', { visit: false }).result, rejectsWith('not_found', /no client "nobody-here"/));
  });

  /** The real `fleet` CLI against the running service; outlook because its authority host is a CLI option. */
  function runCli(args: string[], stdin: string): { exit: Promise<{ code: number | null; stdout: string; stderr: string }>; url: Promise<string> } {
    const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../orchestrator/src/cli/main.ts');
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, AGENT_FLEET_HOME: fleet.homeDir }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let onUrl!: (url: string) => void;
    const url = new Promise<string>((resolve) => (onUrl = resolve));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /^(http\S+authorize\S*)$/m.exec(stderr);
      if (match?.[1]) onUrl(match[1]);
    });
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    );
    return { exit, url };
  }

  test('the fleet CLI runs the flow with the client secret from stdin, never printing it', async () => {
    const clientId = await registerClient('outlook', { 'mail.read': true });
    const run = runCli(
      ['connect', clientId, '--provider', 'outlook', '--oauth-client-id', graph.clientId, '--tenant', graph.tenant, '--authority-host', graph.baseUrl, '--timeout', '30'],
      `${graph.clientSecret}\n`,
    );
    const consent = await fetch(await run.url, { redirect: 'manual' });
    assert.equal(consent.status, 302);
    assert.equal((await fetch(consent.headers.get('location') ?? '')).status, 200);
    const { code, stdout, stderr } = await run.exit;
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`${clientId}: outlook connected, tokens stored as secret "outlook" \\(version 1\\)`));
    assert.ok(!`${stdout}${stderr}`.includes(graph.clientSecret), 'the client secret is never printed');
    const secret = await storedSecret(clientId, 'outlook');
    assert.ok(!`${stdout}${stderr}`.includes(secret!.refresh_token!), 'the refresh token is never printed');
  });

  test('the fleet CLI refuses a provider that does not match the config with exit code 2, before asking for the secret', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    const { code, stderr } = await runCli(['connect', clientId, '--provider', 'outlook', '--oauth-client-id', 'x'], '').exit;
    assert.equal(code, 2);
    assert.match(stderr, /uses gmail, not outlook: use --provider gmail/);
  });

  test('the emulated token endpoint redeems a code once, only with its PKCE verifier', async () => {
    const clientId = await registerClient('gmail', { 'mail.read': true });
    const listener = await listenForRedirect();
    const consent = consentForProvider({ googleAuthorizationUrl: `${new URL(gmail.tokenUrl).origin}/o/oauth2/v2/auth`, googleTokenUrl: gmail.tokenUrl })(
      'gmail',
      { clientId: gmail.clientId, clientSecret: gmail.clientSecret },
    );
    await listener.close();
    const authorize = async () => {
      const request = await consent.createAuthorizationRequest({ scopes: [`${G}gmail.readonly`], redirectUri: listener.redirectUri });
      const location = new URL((await fetch(request.url, { redirect: 'manual' })).headers.get('location') ?? '');
      const code = location.searchParams.get('code') ?? '';
      return (verifier = request.codeVerifier) => consent.exchangeCode({ code, codeVerifier: verifier, redirectUri: listener.redirectUri });
    };
    const wrongVerifier = await authorize();
    await assert.rejects(wrongVerifier(`${'A'.repeat(43)}`), rejectsWith('unauthorized', /authorization code/));
    const exchange = await authorize();
    assert.ok((await exchange()).refreshToken, 'the right verifier redeems the code');
    await assert.rejects(exchange(), rejectsWith('unauthorized', /authorization code/), 'a code is single-use');
    assert.deepEqual(await secretNames(clientId), []);
  });
});
