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
  ): Promise<{ result: Promise<ConnectMailboxResult>; warnings: string[] }> {
    const emulator = provider === 'gmail' ? gmail : graph;
    const service = new ConnectMailboxService({
      target,
      consentFor: consentForProvider({
        googleAuthorizationUrl: `${new URL(gmail.tokenUrl).origin}/o/oauth2/v2/auth`,
        googleTokenUrl: gmail.tokenUrl,
        gmailApiUrl: gmail.rootUrl,
        microsoftAuthorityHost: graph.baseUrl,
      }),
      listen: (port) => listenForRedirect(port === undefined ? {} : { port }),
      configuredMailbox: () => Promise.resolve(configuredMailbox),
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
    return { result: result.finally(() => visited), warnings };
  }

  const forbiddenNaming = (pattern: RegExp) => (error: unknown) => {
    assert.ok(isFleetError(error), `expected a FleetError, got ${String(error)}`);
    assert.equal(error.code, 'forbidden');
    assert.match(error.message, pattern);
    return true;
  };

  test('gmail: a consent by another account than the configured mailbox is refused and nothing is stored', async () => {
    const target = memoryTarget([`${G}gmail.readonly`]);
    const { result } = await connect('gmail', target, 'agent@acme.example');
    await assert.rejects(
      result,
      forbiddenNaming(/given by jane\.personal@gmail\.example.*mailbox is agent@acme\.example/),
    );
    assert.equal(target.stored.size, 0);
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

  test('outlook: the account cannot be told under the mail scopes, so the operator is told which to check', async () => {
    const target = memoryTarget(['Mail.Read', 'offline_access']);
    const { result, warnings } = await connect('outlook', target, 'agent@acme.example');
    await result;
    assert.ok(target.stored.has('outlook'));
    assert.ok(
      warnings.some((warning) => /check that it was agent@acme\.example/.test(warning)),
      warnings.join('\n'),
    );
  });
});
