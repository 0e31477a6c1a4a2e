import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { consentForProvider } from '../../../orchestrator/src/adapters/oauth/consent-for-provider.ts';
import { listenForRedirect } from '../../../orchestrator/src/adapters/oauth/loopback-redirect-listener.ts';
import { vaultNames } from '../../../orchestrator/src/adapters/vault/client-policy.ts';
import { createVaultClient } from '../../../orchestrator/src/adapters/vault/vault-client.ts';
import { FleetApiClient, mailboxConnectTarget } from '../../../orchestrator/src/cli/fleet-api-client.ts';
import { OrchestratorClient } from '../../../orchestrator/src/cli/orchestrator-client.ts';
import { createSocketApp } from '../../../orchestrator/src/http/create-apps.ts';
import { listenUnixSocket } from '../../../orchestrator/src/http/listen.ts';
import { ConnectMailboxService, type ConnectMailboxResult } from '../../../orchestrator/src/services/connect-mailbox.ts';
import { BullhornEmulator } from '../../emulators/bullhorn-emulator.ts';
import { createFleetFixture, uniqueClientId, type FleetFixture } from '../../helpers/fleet-fixture.ts';
import { enrolMember } from '../../helpers/team-session.ts';

/**
 * `fleet connect acme --provider bullhorn` end to end without a browser: the orchestrator's API on its
 * unix socket, the embedded secret store, the Bullhorn emulator as the OAuth server, the test as the
 * browser (registering the listener's loopback redirect URI with the API key first, as an admin would).
 */
describe('fleet connect --provider bullhorn: OAuth consent stores the CRM tokens', () => {
  let fleet: FleetFixture;
  let socketServer: Server;
  let api: OrchestratorClient;
  const bullhorn = new BullhornEmulator();

  before(async () => {
    fleet = await createFleetFixture();
    socketServer = await listenUnixSocket(createSocketApp(fleet.orchestrator, createSilentLogger()), fleet.config.api.socketPath);
    // The operator signed in as the team member the ops log names.
    const member = await enrolMember(fleet.orchestrator, 'ops@test');
    api = new OrchestratorClient({ socketPath: fleet.config.api.socketPath, homeDir: fleet.homeDir, sessionToken: member.token });
    await bullhorn.start();
  });
  after(async () => {
    await new Promise<void>((resolve) => socketServer.close(() => resolve()));
    await bullhorn.stop();
    await fleet.cleanup([]);
  });

  async function registerClient(permissions: Record<string, boolean>): Promise<ClientId> {
    const clientId = uniqueClientId('bh');
    const configYaml = `client: ${clientId}\nprovider: gmail\npermissions: ${JSON.stringify(permissions)}\n`;
    const claim = await fleet.orchestrator.registry.claimForProvisioning(
      { id: clientId, provider: 'gmail', admins: [], configYaml, onboardingStartedAt: new Date().toISOString() },
      `op-${clientId}`,
      new Date(),
      60_000,
    );
    assert.equal(claim.outcome, 'claimed');
    await fleet.orchestrator.secretBackend.store.ensureClient(clientId);
    return clientId;
  }

  /** Runs the flow; the "browser" registers the redirect URI, follows the consent page's redirect and returns what the listener answered. */
  function connect(clientId: ClientId, options: { dataCenter?: string } = {}): { result: Promise<ConnectMailboxResult>; url: Promise<URL>; page: Promise<number> } {
    let onUrl!: (value: { url: string; redirectUri: string }) => void;
    const printed = new Promise<{ url: string; redirectUri: string }>((resolve) => (onUrl = resolve));
    const service = new ConnectMailboxService({
      target: mailboxConnectTarget(new FleetApiClient(api, 'ops@test')),
      consentFor: consentForProvider({ bullhornAuthUrl: bullhorn.authUrl }),
      listen: (port) => listenForRedirect(port === undefined ? {} : { port }),
      logger: createSilentLogger(),
    });
    const oauthClient = { clientId: bullhorn.oauth.clientId, clientSecret: bullhorn.oauth.clientSecret, ...(options.dataCenter === undefined ? {} : { dataCenter: options.dataCenter }) };
    const result = service.connect({ clientId, provider: 'bullhorn', oauthClient, timeoutMs: 10_000 }, { authorizationUrl: (url, redirectUri) => onUrl({ url, redirectUri }), warning: () => undefined });
    const page = printed.then(async ({ url, redirectUri }) => {
      bullhorn.oauth.redirectUris.push(redirectUri);
      const consent = await fetch(url, { redirect: 'manual' });
      assert.equal(consent.status, 302, await consent.text());
      const answer = await fetch(new URL(consent.headers.get('location') ?? ''));
      await answer.text();
      return answer.status;
    });
    return { result, url: printed.then(({ url }) => new URL(url)), page };
  }

  async function storedSecret(clientId: ClientId): Promise<Record<string, string> | null> {
    const embedded = fleet.orchestrator.secretBackend.embedded!;
    const vault = createVaultClient({ endpoint: embedded.url, token: embedded.rootToken, caPem: embedded.caCertificatePem });
    try {
      const response = (await vault.read(`${vaultNames(clientId).dataPrefix}bullhorn`)) as { data: { data: { value: string } } };
      return JSON.parse(response.data.data.value) as Record<string, string>;
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
      throw error;
    }
  }

  test('consent stores a working refresh token with the data center, through the audited secrets path', async () => {
    const clientId = await registerClient({ 'mail.read': true, 'crm.read': true, 'crm.write': true });
    bullhorn.oauth.behaviour = 'consent';
    const { result, url, page } = connect(clientId, { dataCenter: 'west' });
    const outcome = await result;
    assert.equal(await page, 200);
    const authorize = await url;
    assert.equal(authorize.searchParams.get('response_type'), 'code');
    assert.equal(authorize.searchParams.get('scope'), null, 'Bullhorn has no scopes');
    assert.equal(authorize.searchParams.get('code_challenge'), null, 'nor PKCE');
    assert.ok((authorize.searchParams.get('state') ?? '').length >= 43);
    assert.deepEqual(outcome.grantedScopes, []);

    const secret = await storedSecret(clientId);
    assert.ok(secret);
    assert.deepEqual(Object.keys(secret).sort(), ['client_id', 'client_secret', 'data_center', 'refresh_token']);
    assert.equal(secret.data_center, 'west');
    assert.ok(bullhorn.oauth.isRefreshTokenValid(secret.refresh_token!), 'the stored refresh token works at Bullhorn');
    const entry = (await fleet.orchestrator.registry.listOpsLog({ clientId })).find((e) => e.action === 'secret-write');
    assert.deepEqual(entry?.details, { name: 'bullhorn', version: 1 });
    assert.ok(!JSON.stringify(await fleet.orchestrator.registry.listOpsLog({ clientId })).includes(secret.refresh_token!));
  });

  test('a client without crm.read or crm.write is refused before any browser opens; a denied consent stores nothing', async () => {
    const mailOnly = await registerClient({ 'mail.read': true });
    await assert.rejects(connect(mailOnly).result, (error: unknown) => isFleetError(error) && error.code === 'invalid_input' && /crm\.read nor crm\.write/.test(error.message));

    const clientId = await registerClient({ 'crm.read': true });
    bullhorn.oauth.behaviour = 'deny';
    try {
      const { result } = connect(clientId);
      await assert.rejects(result, (error: unknown) => isFleetError(error) && error.code === 'forbidden');
    } finally {
      bullhorn.oauth.behaviour = 'consent';
    }
    assert.equal(await storedSecret(clientId), null);
  });

  test('the data center picks the OAuth server when none is given', async () => {
    const consent = consentForProvider()('bullhorn', { clientId: 'key', clientSecret: 'secret', dataCenter: 'emea' });
    const request = await consent.createAuthorizationRequest({ scopes: [], redirectUri: 'http://127.0.0.1:5000/oauth/callback' });
    assert.equal(new URL(request.url).origin, 'https://auth-emea.bullhornstaffing.com');
    assert.throws(() => consentForProvider()('bullhorn', { clientId: 'key', clientSecret: 'secret', dataCenter: 'mars' }), /data center must be one of/);
  });
});
