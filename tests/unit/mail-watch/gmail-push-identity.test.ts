import assert from 'node:assert/strict';
import { generateKeyPairSync, createSign } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import express from 'express';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import { GoogleSigningKeys, GOOGLE_CERTS_URL, isAcceptableCertsUrl } from '../../../agent-image/src/adapters/gmail/google-signing-keys.ts';
import { mountMailNotifications } from '../../../agent-image/src/http/mail-notification-route.ts';
import type { MailProvider, MailWatch } from '../../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { GooglePushTokenVerifier, type GmailPushIdentity } from '../../../agent-image/src/adapters/gmail/google-push-token.ts';
import { PushSync } from '../../../agent-image/src/services/mail-watch/push-sync.ts';
import { GmailPush } from '../../../tests/emulators/gmail-push.ts';
import { HttpEmulator, json } from '../../../tests/emulators/http-emulator.ts';

/**
 * Gmail pushes reach the public notification route of a real PushSync, sent by the emulator's Pub/Sub
 * push (signed like a subscription with `oidcToken`), with Google's keys fetched from the emulator.
 */

const MAILBOX = 'owner@acme.example';
const IDENTITY: GmailPushIdentity = { serviceAccount: 'gmail-push@acme-mail.iam.gserviceaccount.com', audience: 'https://agent.acme.example/v1/mail-notifications' };

function memorySource(): SecretSource {
  const data = new Map<string, string>();
  return {
    readSecretData: async (name: string) => (data.has(name) ? { value: data.get(name) ?? '' } : null),
    writeSecret: async (name: string, value: string) => void data.set(name, value),
  } as unknown as SecretSource;
}

function gmailWatchProvider(): MailProvider {
  const watch = async (): Promise<MailWatch> => ({ id: '100', kind: 'gmail', createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
  return { watch, renewWatch: watch, unwatch: async () => undefined } as unknown as MailProvider;
}

async function eventually(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Agent {
  url: string;
  token: string;
  syncs: () => number;
  warnings: string[];
  close: () => Promise<void>;
}

/** A Gmail agent's push side: PushSync behind the real route, syncs counted. */
async function startAgent(options: { mailbox?: string; identity?: GmailPushIdentity | null; certsUrl: string; keysNow?: () => number }): Promise<Agent> {
  const parsed = parseClientConfig({
    client: 'acme',
    provider: 'gmail',
    mailbox: options.mailbox ?? MAILBOX,
    push: { gmailTopic: 'projects/acme-mail/topics/gmail-inbox' },
  });
  assert.ok(parsed.ok);
  // Validation now refuses Gmail push without a mailbox; a config stored before that can still lack one.
  const { mailbox: _validated, ...withoutMailbox } = parsed.config;
  const config = options.mailbox === undefined ? withoutMailbox : parsed.config;
  const warnings: string[] = [];
  const logger: Logger = { ...createSilentLogger(), warn: (message) => void warnings.push(message), child: () => logger };
  let syncs = 0;
  const identity = options.identity === undefined ? IDENTITY : options.identity;
  const push = new PushSync({
    config,
    logger,
    now: () => new Date(),
    sync: async () => void syncs++,
    stopped: () => false,
    notificationDebounceMs: 1,
    ...(identity === null ? {} : { gmailPushVerifier: new GooglePushTokenVerifier({ identity, keys: new GoogleSigningKeys({ certsUrl: options.certsUrl, ...(options.keysNow === undefined ? {} : { now: options.keysNow }) }) }) }),
  });
  const source = memorySource();
  push.start({ provider: gmailWatchProvider(), providerKind: 'gmail', source: () => source, audit: async () => undefined });
  await eventually('the watch', () => push.status.expiresAt !== null);
  const stored = (await source.readSecretData('push'))?.['value'] ?? '';
  const token = (JSON.parse(stored) as { token: string }).token;
  const app = express();
  mountMailNotifications(app, push);
  app.use((error: { code?: string }, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
    const status = { unauthorized: 401, forbidden: 403, invalid_input: 400, unavailable: 503 }[error.code ?? ''] ?? 500;
    response.status(status).json({ code: error.code ?? 'internal' });
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/mail-notifications`,
    token,
    syncs: () => syncs,
    warnings,
    close: async () => {
      await push.stop('test');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function pushBody(emailAddress: string, historyId = 4321): string {
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify({ emailAddress, historyId })).toString('base64'), messageId: '7', publishTime: new Date().toISOString() },
    subscription: 'projects/acme-mail/subscriptions/agent',
  });
}

async function post(agent: Agent, authorization: string | null, body = pushBody(MAILBOX), token = agent.token): Promise<number> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== null) headers['authorization'] = authorization;
  const response = await fetch(`${agent.url}?token=${encodeURIComponent(token)}`, { method: 'POST', headers, body });
  await response.arrayBuffer();
  return response.status;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('Gmail push authenticity', () => {
  const pubsub = new GmailPush((status, message) => json(status, { error: { code: status, message } }));
  const certs = new HttpEmulator(() => pubsub.handleCerts());
  let certsUrl: string;

  before(async () => {
    pubsub.signPushesAs(IDENTITY);
    await certs.start();
    certsUrl = `${certs.url}/oauth2/v3/certs`;
  });
  after(() => certs.stop());
  beforeEach(() => {
    certs.requests.length = 0;
  });

  test("the emulator's signed push is accepted and makes one sync; the same push unsigned is refused and syncs nothing", async () => {
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl });
    try {
      pubsub.handleWatch(JSON.stringify({ topicName: 'projects/acme-mail/topics/gmail-inbox', labelIds: ['INBOX'] }), 100);
      pubsub.setPushEndpoint(`${agent.url}?token=${agent.token}`);
      pubsub.messageAdded(MAILBOX, 101, ['INBOX']);
      await pubsub.settled();
      assert.equal(pubsub.deliveries.at(-1)?.status, 204);
      await eventually('the sync', () => agent.syncs() === 1);

      assert.equal(await post(agent, null), 401, 'the URL token alone is not enough once an OIDC identity is configured');
      assert.equal(await post(agent, 'Bearer not.a.jwt'), 403);
      await settle();
      assert.equal(agent.syncs(), 1);
    } finally {
      pubsub.setPushEndpoint(null);
      await agent.close();
    }
  });

  test('tokens that are not Google’s push token for this subscription are refused', async () => {
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl });
    try {
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 204, 'the control case is accepted');
      const now = Math.floor(Date.now() / 1000);
      const forged: [string, string][] = [
        ['another audience (any Google account can mint one)', pubsub.idToken({ aud: 'https://attacker.example/push' })],
        ['another service account', pubsub.idToken({ email: 'someone@other-project.iam.gserviceaccount.com' })],
        ['an unverified email', pubsub.idToken({ email_verified: false })],
        ['another issuer', pubsub.idToken({ iss: 'https://issuer.example' })],
        ['expired', pubsub.idToken({ iat: now - 7200, exp: now - 3600 })],
        ['issued in the future', pubsub.idToken({ iat: now + 3600, exp: now + 7200 })],
        ['a lifetime beyond an hour', pubsub.idToken({ exp: now + 86_400 })],
        ['an audience list', pubsub.idToken({ aud: [IDENTITY.audience] })],
        ['alg none', `${pubsub.idToken({}, { alg: 'none' }).split('.').slice(0, 2).join('.')}.`],
        ['HS256 header', pubsub.idToken({}, { alg: 'HS256' })],
        ['a tampered claim set', tamper(pubsub.idToken())],
        ['signed by another key under a published key id', selfSigned(pubsub.idToken())],
        ['an unknown key id', pubsub.idToken({}, { kid: 'no-such-key' })],
      ];
      for (const [what, jwt] of forged) assert.equal(await post(agent, `Bearer ${jwt}`), 403, what);
      assert.equal(await post(agent, pubsub.idToken()), 403, 'not a Bearer header');
      assert.equal(await post(agent, `Bearer ${'a'.repeat(5000)}.b.c`), 403, 'oversized');
      await settle();
      assert.equal(agent.syncs(), 1, 'only the authentic push synced');
    } finally {
      await agent.close();
    }
  });

  test('a flood of pushes with the URL token but forged OIDC tokens syncs nothing and costs at most one key fetch', async () => {
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, (_, i) => post(agent, `Bearer ${i % 2 === 0 ? tamper(pubsub.idToken()) : pubsub.idToken({}, { kid: `forged-${i}` })}`)),
      );
      assert.ok(statuses.every((status) => status === 403));
      await settle();
      assert.equal(agent.syncs(), 0);
      assert.ok(certs.requests.length <= 1, `fetched the keys ${certs.requests.length} times`);
      const wrongToken = await Promise.all(Array.from({ length: 50 }, () => post(agent, `Bearer ${pubsub.idToken()}`, pushBody(MAILBOX), `${agent.token}x`)));
      assert.ok(wrongToken.every((status) => status === 403));
      await settle();
      assert.equal(agent.syncs(), 0, 'a wrong URL token is refused even with a valid OIDC token');
    } finally {
      await agent.close();
    }
  });

  test('Google rotating its signing key is picked up without a restart, by at most one fetch a minute', async () => {
    let clock = Date.now();
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl, keysNow: () => clock });
    try {
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 204);
      pubsub.rotateSigningKey();
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 403, 'refused within the minute: Pub/Sub redelivers it');
      clock += 60_000;
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 204, 'the new key id triggers one refresh');
      assert.equal(certs.requests.length, 2);
    } finally {
      await agent.close();
    }
  });

  test('an authentic push about another mailbox is acknowledged, syncs nothing, and warns once', async () => {
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`, pushBody('someone-else@other.example')), 204);
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`, pushBody('OWNER@acme.example')), 204);
      await eventually('the sync of our own mailbox', () => agent.syncs() === 1);
      await settle();
      assert.equal(agent.syncs(), 1, 'only the push about our mailbox synced');
      assert.equal(agent.warnings.filter((line) => /another mailbox/.test(line)).length, 1);
    } finally {
      await agent.close();
    }
  });

  test('without an OIDC identity (the URL-token-only mode) the mailbox is still enforced, and the mode is warned about', async () => {
    const agent = await startAgent({ mailbox: MAILBOX, identity: null, certsUrl });
    try {
      assert.ok(agent.warnings.some((line) => /URL token only/.test(line)));
      assert.equal(await post(agent, null, pushBody('someone-else@other.example')), 204);
      assert.equal(await post(agent, null), 204);
      await eventually('the sync', () => agent.syncs() === 1);
      await settle();
      assert.equal(agent.syncs(), 1);
      assert.equal(certs.requests.length, 0);
    } finally {
      await agent.close();
    }
  });

  test('a config that names no mailbox (one stored before validation refused it) syncs on no push', async () => {
    const agent = await startAgent({ certsUrl });
    try {
      assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 204);
      await settle();
      assert.equal(agent.syncs(), 0);
      assert.ok(agent.warnings.some((line) => /names no mailbox/.test(line)));
    } finally {
      await agent.close();
    }
  });

  test("with Google's keys out of reach a push is refused as unavailable (Pub/Sub redelivers), warned once, never synced", async () => {
    const dead = new HttpEmulator(() => ({ status: 503 }));
    await dead.start();
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl: `${dead.url}/oauth2/v3/certs` });
    try {
      for (let i = 0; i < 5; i++) assert.equal(await post(agent, `Bearer ${pubsub.idToken()}`), 503);
      await settle();
      assert.equal(agent.syncs(), 0);
      assert.equal(dead.requests.length, 1, 'one fetch a minute at most');
      assert.equal(agent.warnings.filter((line) => /signing keys/.test(line)).length, 1);
    } finally {
      await agent.close();
      await dead.stop();
    }
  });

  test('malformed bodies are refused after authentication, never synced', async () => {
    const agent = await startAgent({ mailbox: MAILBOX, certsUrl });
    try {
      const bearer = `Bearer ${pubsub.idToken()}`;
      const bodies = ['{"message":{}}', '{"message":{"data":"bm90IGpzb24="}}', JSON.stringify({ message: { data: Buffer.from('{"historyId":"x"}').toString('base64') } }), '[]'];
      for (const body of bodies) assert.equal(await post(agent, bearer, body), 400, body);
      assert.equal(await post(agent, bearer, JSON.stringify({ message: { data: 'A'.repeat(70_000) } })), 400, 'over the body limit');
      await settle();
      assert.equal(agent.syncs(), 0);
    } finally {
      await agent.close();
    }
  });
});

describe("Google's signing keys", () => {
  test("come from Google's URL, or an emulator on loopback or a private network, nowhere else", () => {
    assert.equal(isAcceptableCertsUrl(GOOGLE_CERTS_URL), true);
    for (const url of ['http://127.0.0.1:4000/oauth2/v3/certs', 'http://localhost:1/c', 'http://[::1]:80/c', 'http://172.17.0.1:9000/c', 'http://10.1.2.3/c']) {
      assert.equal(isAcceptableCertsUrl(url), true, url);
    }
    for (const url of ['https://keys.attacker.example/certs', 'http://8.8.8.8/c', 'http://172.32.0.1/c', 'http://user:pw@127.0.0.1/c', 'file:///etc/keys', 'https://www.googleapis.com.attacker.example/oauth2/v3/certs']) {
      assert.equal(isAcceptableCertsUrl(url), false, url);
    }
    assert.throws(() => new GoogleSigningKeys({ certsUrl: 'https://keys.attacker.example/certs' }));
  });

  test('an oversized or unreachable key set is unavailable, not a crash; a later fetch recovers', async () => {
    let answer: () => { status: number; body?: unknown } = () => ({ status: 200, body: 'x'.repeat(100_000) });
    const server = new HttpEmulator(() => answer());
    await server.start();
    try {
      let clock = 0;
      const keys = new GoogleSigningKeys({ certsUrl: `${server.url}/certs`, now: () => clock });
      await assert.rejects(keys.keyFor('k'), (error: { code?: string }) => error.code === 'integrity');
      answer = () => ({ status: 500 });
      clock += 60_000;
      await assert.rejects(keys.keyFor('k'), (error: { code?: string }) => error.code === 'unavailable');
      await assert.rejects(keys.keyFor('k'), (error: { code?: string }) => error.code === 'unavailable');
      assert.equal(server.requests.length, 2, 'no refetch within the minute');
      answer = () => ({ status: 200, body: { keys: [{ kid: 'ec', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }, { kid: 'k', kty: 'RSA', n: 'AQAB', e: 'AQAB' }] } });
      clock += 60_000;
      assert.equal(await keys.keyFor('ec'), null, 'a key of another type is not used');
      assert.equal((await keys.keyFor('k'))?.asymmetricKeyType, 'rsa', 'and does not hide the RSA keys beside it');
    } finally {
      await server.stop();
    }
  });
});

/** The token with its claims changed (email swapped) and the original signature kept. */
function tamper(jwt: string): string {
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  const payload = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>;
  payload['sub'] = 'someone-else';
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

/** The token re-signed by a key nobody published, keeping the published key id. */
function selfSigned(jwt: string): string {
  const [header = '', claims = ''] = jwt.split('.');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey).toString('base64url');
  return `${header}.${claims}.${signature}`;
}
