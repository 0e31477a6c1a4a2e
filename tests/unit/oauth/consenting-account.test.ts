import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { consentForProvider } from '../../../orchestrator/src/adapters/oauth/consent-for-provider.ts';
import { listenForRedirect } from '../../../orchestrator/src/adapters/oauth/loopback-redirect-listener.ts';
import type { MailboxConnectTarget, MailboxProvider } from '../../../orchestrator/src/ports/oauth-consent.ts';
import {
  ConnectMailboxService,
  type AccountAwareOAuthConsent,
  type ConnectMailboxResult,
} from '../../../orchestrator/src/services/connect-mailbox.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';

const G = 'https://www.googleapis.com/auth/';

/** The consent flow against the emulators; the configured mailbox must be the account that consents. */
describe('the account that consents', () => {
  const gmail = new GmailEmulator({ mailbox: 'jane.personal@gmail.example' });
  const graph = new GraphEmulator();
  const clientId: ClientId = parseClientId('acme');

  before(async () => {
    await gmail.start();
    await graph.start();
  });
  after(async () => {
    await gmail.stop();
    await graph.stop();
  });

  /** Stores in memory; the scopes are what the client's config asks for. */
  function memoryTarget(scopes: string[]): MailboxConnectTarget & { stored: Map<string, string> } {
    const stored = new Map<string, string>();
    return {
      stored,
      consentScopes: () => Promise.resolve(scopes),
      storeSecret: (_client, name, value) => {
        stored.set(name, value);
        return Promise.resolve({ version: stored.size });
      },
    };
  }

  /** Runs the flow; the "browser" follows the consent page's redirect to the loopback listener. */
  async function connect(
    provider: MailboxProvider,
    target: MailboxConnectTarget,
    configuredMailbox: string | null,
    revokeUrl = gmail.revokeUrl,
    otherClientsMailboxes: readonly string[] = [],
  ): Promise<{ result: Promise<ConnectMailboxResult>; warnings: string[]; refreshTokens: string[] }> {
    const emulator = provider === 'gmail' ? gmail : graph;
    const consentFor = consentForProvider({
      googleAuthorizationUrl: `${new URL(gmail.tokenUrl).origin}/o/oauth2/v2/auth`,
      googleTokenUrl: gmail.tokenUrl,
      googleRevokeUrl: revokeUrl,
      gmailApiUrl: gmail.rootUrl,
      microsoftAuthorityHost: graph.baseUrl,
    });
    // The refresh tokens the exchange got, so a test can ask the emulator whether they still work.
    const refreshTokens: string[] = [];
    const service = new ConnectMailboxService({
      target,
      consentFor: (name, oauthClient): AccountAwareOAuthConsent => {
        const consent = consentFor(name, oauthClient);
        return {
          createAuthorizationRequest: (input) => consent.createAuthorizationRequest(input),
          exchangeCode: async (input) => {
            const grant = await consent.exchangeCode(input);
            refreshTokens.push(grant.refreshToken);
            return grant;
          },
        };
      },
      listen: (port) => listenForRedirect(port === undefined ? {} : { port }),
      configuredMailbox: () => Promise.resolve(configuredMailbox),
      otherClientsMailboxes: () => Promise.resolve(otherClientsMailboxes),
      logger: createSilentLogger(),
    });
    const warnings: string[] = [];
    let visited!: Promise<unknown>;
    const result = service.connect(
      {
        clientId,
        provider,
        oauthClient: {
          clientId: emulator.clientId,
          clientSecret: emulator.clientSecret,
          ...(provider === 'outlook' ? { tenant: graph.tenant } : {}),
        },
        timeoutMs: 5_000,
      },
      {
        authorizationUrl: (url) => {
          visited = fetch(url, { redirect: 'manual' }).then((consent) =>
            fetch(consent.headers.get('location') ?? ''),
          );
        },
        warning: (message) => warnings.push(message),
      },
    );
    result.catch(() => undefined);
    await Promise.resolve();
    return { result: result.finally(() => visited), warnings, refreshTokens };
  }

  const forbiddenNaming = (pattern: RegExp) => (error: unknown) => {
    assert.ok(isFleetError(error), `expected a FleetError, got ${String(error)}`);
    assert.equal(error.code, 'forbidden');
    assert.match(error.message, pattern);
    return true;
  };

  test('gmail: a consent by another account than the configured mailbox is refused, revoked at Google, and nothing is stored', async () => {
    const target = memoryTarget([`${G}gmail.readonly`]);
    const { result, refreshTokens } = await connect('gmail', target, 'agent@acme.example');
    await assert.rejects(
      result,
      forbiddenNaming(/given by jane\.personal@gmail\.example.*mailbox is agent@acme\.example.*revoked at gmail/),
    );
    assert.equal(target.stored.size, 0);
    assert.equal(refreshTokens.length, 1);
    assert.equal(gmail.refreshTokenActive(refreshTokens[0] ?? ''), false, 'the refused grant no longer works at Google');
  });

  test('gmail: when Google cannot revoke the refused grant, the operator is told to remove it by hand, and nothing is stored', async () => {
    const target = memoryTarget([`${G}gmail.readonly`]);
    // Nothing listens on the discard port: the revocation request is refused at once.
    const { result } = await connect('gmail', target, 'agent@acme.example', 'http://127.0.0.1:9/revoke');
    await assert.rejects(result, forbiddenNaming(/revoking that grant at gmail failed.*by hand.*connect again signed in as agent@acme\.example/));
    assert.equal(target.stored.size, 0);
  });

  test("gmail: a refused grant of another client's mailbox is not revoked (a revocation would end that client's grant too)", async () => {
    const target = memoryTarget([`${G}gmail.readonly`]);
    const { result, refreshTokens } = await connect('gmail', target, 'agent@acme.example', gmail.revokeUrl, ['jane.personal@gmail.example']);
    await assert.rejects(result, forbiddenNaming(/given by jane\.personal@gmail\.example.*not revoked: .*another client's mailbox/));
    assert.equal(target.stored.size, 0);
    assert.equal(gmail.refreshTokenActive(refreshTokens[0] ?? ''), true, "the other client's grant still works at Google");
  });

  test('gmail: the configured mailbox consenting is stored, compared case-insensitively', async () => {
    const target = memoryTarget([`${G}gmail.compose`, `${G}gmail.readonly`]);
    const { result, warnings } = await connect('gmail', target, 'Jane.Personal@Gmail.example');
    const outcome = await result;
    assert.equal(outcome.version, 1);
    assert.ok(target.stored.has('gmail'));
    assert.deepEqual(warnings, []);
  });

  test('gmail: with no mailbox configured the consent is stored as before', async () => {
    const target = memoryTarget([`${G}gmail.readonly`]);
    const { result } = await connect('gmail', target, null);
    await result;
    assert.ok(target.stored.has('gmail'));
  });

  test('gmail: scopes that cannot name the account store the grant with a warning naming the mailbox to check', async () => {
    const target = memoryTarget([`${G}calendar.freebusy`]);
    const { result, warnings } = await connect('gmail', target, 'agent@acme.example');
    await result;
    assert.ok(target.stored.has('gmail'));
    assert.ok(
      warnings.some((warning) => /check that it was agent@acme\.example/.test(warning)),
      warnings.join('\n'),
    );
  });

  test('outlook: a consent by another account than the configured mailbox is refused, with how to remove it, and nothing is stored', async () => {
    const target = memoryTarget(['Mail.Read', 'offline_access']);
    graph.authorizationCodes.signedInAs = 'jane@other.example';
    try {
      const { result } = await connect('outlook', target, 'agent@acme.example');
      await assert.rejects(
        result,
        forbiddenNaming(/given by jane@other\.example.*mailbox is agent@acme\.example.*still active at outlook.*myapps\.microsoft\.com/),
      );
    } finally {
      graph.authorizationCodes.signedInAs = null;
    }
    assert.equal(target.stored.size, 0);
  });

  test('outlook: the configured mailbox consenting is stored without a warning, and the sign-in scopes are not part of the grant', async () => {
    const target = memoryTarget(['Mail.Read', 'offline_access']);
    const { result, warnings } = await connect('outlook', target, 'Agent@Acme.example');
    const outcome = await result;
    assert.ok(target.stored.has('outlook'));
    assert.deepEqual(warnings, []);
    assert.deepEqual([...outcome.grantedScopes].sort(), ['Mail.Read', 'offline_access']);
    const requested = graph.authorizationCodes.authorizations.at(-1)?.scopes ?? [];
    assert.deepEqual([...requested].sort(), ['Mail.Read', 'email', 'offline_access', 'openid']);
  });
});
