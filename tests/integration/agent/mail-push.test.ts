import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { agentBed } from '../../helpers/agent-bed.ts';
import { providerSecret } from '../../helpers/oauth-tokens.ts';
import { KNOWN, clientConfig, uniqueClient, type AgentUnderTest, type MailboxUnderTest, type VaultFixture } from './agent-harness.ts';

/**
 * Push on top of polling, end to end in-process: the harness runs the agent with its poll timer off, so
 * a message is only processed before the test's deadline if a notification made the agent sync.
 */

const TOPIC = 'projects/acme-mail-push/topics/gmail-inbox';
const NOTIFY = '/v1/mail-notifications';

/**
 * The part of the harness's mailbox that `startAgent` reads (the provider secret and the endpoints),
 * built here so the test keeps hold of the emulator and its watch hooks.
 */
type PushMailbox = Pick<MailboxUnderTest, 'kind' | 'mailbox' | 'secretValue' | 'endpoints'> & {
  seed(seed: { from: string; subject: string; text: string }): Promise<string>;
};

function gmailBox(emulator: GmailEmulator): PushMailbox {
  return {
    kind: 'gmail',
    mailbox: emulator.mailbox,
    seed: async (seed) => (await emulator.seedInbound({ ...seed, to: [emulator.mailbox] })).id,
    secretValue: (config) => providerSecret(emulator, gmailScopesFor(config.permissions)),
    endpoints: { gmailRootUrl: emulator.rootUrl, gmailTokenUrl: emulator.tokenUrl },
  };
}

function outlookBox(emulator: GraphEmulator): PushMailbox {
  return {
    kind: 'outlook',
    mailbox: emulator.mailbox,
    seed: async (seed) => emulator.seedInbound({ ...seed, to: [emulator.mailbox] }).id,
    secretValue: (config) => providerSecret(emulator, graphScopesFor(config.permissions)),
    endpoints: { graphBaseUrl: emulator.baseUrl, graphTokenUrl: emulator.tokenUrl },
  };
}

/**
 * The public address Graph is given must exist before the agent (whose port is random) does: a
 * loopback relay stands in for the reverse proxy in front of the agent.
 */
class Relay {
  /** The agent behind the relay (the proxy trusts the fleet CA and checks it is this client's agent). */
  target: AgentUnderTest | null = null;
  #server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const headers: Record<string, string> = {};
        if (typeof request.headers['content-type'] === 'string') headers['content-type'] = request.headers['content-type'];
        if (typeof request.headers.authorization === 'string') headers['authorization'] = request.headers.authorization;
        Promise.resolve(this.target)
          .then((agent) => {
            if (agent === null) throw new Error('no agent behind the relay');
            return agent.send(request.url ?? '/', { method: request.method ?? 'GET', headers, ...(chunks.length === 0 ? {} : { body: Buffer.concat(chunks) }) });
          })
          .then(async (upstream) => {
            const body = Buffer.from(await upstream.text());
            response.writeHead(upstream.status, { 'content-type': String(upstream.headers['content-type'] ?? 'application/octet-stream') });
            response.end(body);
          })
          .catch(() => {
            response.writeHead(502);
            response.end();
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function eventually<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const readOf = (records: AuditRecord[], id: string) => records.some((r) => r.action_type === 'email_read' && r.target === id);
const watchRecords = (records: AuditRecord[], type: string) => records.filter((r) => r.action_type === type && r.result === 'success');

async function notify(agent: AgentUnderTest, query: string, body: unknown): Promise<number> {
  const response = await agent.send(`${NOTIFY}${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return response.status;
}

describe('push notifications into the agent', () => {
  const bed = agentBed();
  let vault: VaultFixture;
  before(() => ({ vault } = bed)); // the bed's fixture, by the name the tests use

  test('outlook: a new message arrives by notification, forgeries are refused, missed → backfill, kill → unwatch', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    const relay = new Relay();
    await relay.start();
    const mailbox = outlookBox(emulator);
    const config = clientConfig(uniqueClient(), mailbox.mailbox, 'outlook', { push: { notificationUrl: `${relay.url}${NOTIFY}` } });
    bed.onTeardown(() => emulator.stop());
    bed.onTeardown(() => relay.stop());
    const agent = await bed.startAgent({ config, mailbox: mailbox as MailboxUnderTest });
    relay.target = agent;
    assert.equal(await agent.introduce(), 204);
    const [subscription] = await eventually('the subscription', async () => (emulator.subscriptions.list().length === 1 ? emulator.subscriptions.list() : null));
    assert.ok(subscription !== undefined);
    assert.equal(subscription.notificationUrl, `${relay.url}${NOTIFY}`);
    await agent.runtime.tick(); // the first sync only takes the cursor

    const pushed = await mailbox.seed({ from: KNOWN, subject: 'Invoice 9', text: 'Hi, we received the invoice. Thanks!' });
    await eventually('the pushed message to be read', async () => readOf(await agent.auditRecords(), pushed));

    emulator.subscriptions.suspendNotifications(true);
    const missed = await mailbox.seed({ from: KNOWN, subject: 'Meeting', text: 'Can we meet on Tuesday at 10?' });
    const forged = { value: [{ subscriptionId: subscription.id, changeType: 'created', clientState: 'guessed-state', resource: 'x', resourceData: { id: missed } }] };
    assert.equal(await notify(agent, '', forged), 403);
    const anonymous = { value: [{ subscriptionId: subscription.id, changeType: 'created', resource: 'x' }] };
    assert.equal(await notify(agent, '', anonymous), 401);
    assert.equal(await notify(agent, '', { value: 'nope' }), 400);
    await sleep(700);
    assert.equal(readOf(await agent.auditRecords(), missed), false, 'a forged notification caused no sync');

    emulator.subscriptions.suspendNotifications(false);
    assert.equal(await emulator.subscriptions.sendLifecycle('missed', subscription.id), 202);
    await eventually('the backfill to read the missed message', async () => readOf(await agent.auditRecords(), missed));

    assert.equal(await emulator.subscriptions.sendLifecycle('subscriptionRemoved', subscription.id), 202);
    const [recreated] = await eventually('a new subscription', async () => {
      const list = emulator.subscriptions.list();
      return list.length === 1 && list[0]?.id !== subscription.id ? list : null;
    });
    assert.ok(recreated !== undefined);

    // A slow provider does not hold up the kill: it answers while the unsubscribe is still held.
    const slowProvider = emulator.subscriptions.holdDeletes();
    const answer = agent.call('POST', '/v1/kill', { reason: 'test', by: 'ops' });
    await eventually('the unsubscribe to be asked for', async () => slowProvider.waiting().includes(recreated.id) || null);
    // The agent bounds an unwatch at 5 s: an answer that waited for the held provider would come only then.
    const first = await Promise.race([answer.then(() => 'answered'), sleep(2500).then(() => 'still waiting')]);
    assert.equal(first, 'answered', 'the kill answered while the provider still held the unsubscribe');
    assert.equal((await answer).status, 204);
    assert.equal(emulator.subscriptions.list().length, 1);
    assert.equal(await notify(agent, '', { value: [{ subscriptionId: recreated.id, changeType: 'created', clientState: recreated.clientState, resource: 'x' }] }), 404, 'the notification route closed with the kill');
    slowProvider.release();
    await eventually('the subscription to be gone', async () => emulator.subscriptions.list().length === 0 || null);
    const records = await eventually('the unwatch audited', async () => {
      const all = await agent.auditRecords();
      return watchRecords(all, 'mail_unwatch').length > 0 ? all : null;
    });
    assert.equal(watchRecords(records, 'mail_watch').length, 2);
    assert.deepEqual(watchRecords(records, 'mail_unwatch').map((r) => r.target), [recreated.id]);
    assert.ok(!JSON.stringify(records).includes(recreated.clientState ?? 'no-state'), 'the clientState is never audited');
  });

  test('gmail: a Pub/Sub push makes the agent sync at once; a push without the right token is refused', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    const mailbox = gmailBox(emulator);
    const config = clientConfig(uniqueClient(), mailbox.mailbox, 'gmail', { push: { gmailTopic: TOPIC } });
    bed.onTeardown(() => emulator.stop());
    // Pub/Sub pushes to a public HTTPS endpoint: the reverse proxy in front of the agent's TLS control port.
    const relay = new Relay();
    await relay.start();
    bed.onTeardown(() => relay.stop());
    const agent = await bed.startAgent({ config, mailbox: mailbox as MailboxUnderTest });
    relay.target = agent;
    assert.equal(await agent.introduce(), 204);
    const watch = await eventually('the gmail watch', async () => emulator.push.watch);
    assert.equal(watch.topicName, TOPIC);
    // Ops reads the push token from Vault to configure the Pub/Sub push subscription.
    const stored = (await vault.admin.read(`fleet/data/${agent.id}/push`)) as { data: { data: { value: string } } };
    const token = (JSON.parse(stored.data.data.value) as { token: string }).token;
    emulator.push.setPushEndpoint(`${relay.url}${NOTIFY}?token=${token}`);
    await agent.runtime.tick();

    const pushed = await mailbox.seed({ from: KNOWN, subject: 'Invoice 10', text: 'Hi, we received the invoice. Thanks!' });
    await eventually('the pushed message to be read', async () => readOf(await agent.auditRecords(), pushed));
    assert.equal(emulator.push.deliveries.at(-1)?.status, 204);

    emulator.push.setPushEndpoint(null);
    const quiet = await mailbox.seed({ from: KNOWN, subject: 'Meeting', text: 'Can we meet on Tuesday at 10?' });
    const body = { message: { data: Buffer.from(JSON.stringify({ emailAddress: mailbox.mailbox, historyId: 99 })).toString('base64'), messageId: '1' }, subscription: 'projects/x/subscriptions/y' };
    assert.equal(await notify(agent, '?token=not-the-token', body), 403);
    assert.equal(await notify(agent, '', body), 401);
    await sleep(700);
    assert.equal(readOf(await agent.auditRecords(), quiet), false, 'a forged push caused no sync');

    const validation = await agent.send(`${NOTIFY}?validationToken=abc`, { method: 'POST' });
    assert.equal(validation.status, 404, 'no Graph handshake for a Gmail agent');

    assert.equal((await agent.call('POST', '/v1/kill', { reason: 'test', by: 'ops' })).status, 204);
    await eventually('users.stop after the kill', async () => emulator.push.watch === null || null);
    const records = await eventually('the unwatch audited', async () => {
      const all = await agent.auditRecords();
      return watchRecords(all, 'mail_unwatch').length > 0 ? all : null;
    });
    assert.equal(watchRecords(records, 'mail_unwatch').length, 1);
    assert.ok(!JSON.stringify(records).includes(token), 'the push token is never audited');
  });

  test('gmail with a signed subscription: only pushes Google signed for its service account and audience sync', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    bed.onTeardown(() => emulator.stop());
    const mailbox = gmailBox(emulator);
    const relay = new Relay();
    await relay.start();
    bed.onTeardown(() => relay.stop());
    const identity = { serviceAccount: 'gmail-push@acme-mail-push.iam.gserviceaccount.com', audience: `${relay.url}${NOTIFY}` };
    const config = clientConfig(uniqueClient(), mailbox.mailbox, 'gmail', { push: { gmailTopic: TOPIC, gmailPushOidc: identity } });
    emulator.push.signPushesAs(identity);
    const agent = await bed.startAgent({ config, mailbox: mailbox as MailboxUnderTest, googleCertsUrl: emulator.certsUrl });
    relay.target = agent;
    assert.equal(await agent.introduce(), 204);
    await eventually('the gmail watch', async () => emulator.push.watch);
    const stored = (await vault.admin.read(`fleet/data/${agent.id}/push`)) as { data: { data: { value: string } } };
    const token = (JSON.parse(stored.data.data.value) as { token: string }).token;
    emulator.push.setPushEndpoint(`${relay.url}${NOTIFY}?token=${token}`);
    await agent.runtime.tick();

    const pushed = await mailbox.seed({ from: KNOWN, subject: 'Invoice 11', text: 'Hi, we received the invoice. Thanks!' });
    await eventually('the signed push to be read', async () => readOf(await agent.auditRecords(), pushed));
    assert.match(emulator.push.deliveries.at(-1)?.authorization ?? '', /^Bearer /);
    assert.equal(emulator.push.deliveries.at(-1)?.status, 204);

    // The URL token alone no longer admits a push; nor does a token minted for another audience.
    emulator.push.setPushEndpoint(null);
    const quiet = await mailbox.seed({ from: KNOWN, subject: 'Meeting', text: 'Can we meet on Tuesday at 10?' });
    const body = { message: { data: Buffer.from(JSON.stringify({ emailAddress: mailbox.mailbox, historyId: 99 })).toString('base64'), messageId: '2' }, subscription: 'projects/x/subscriptions/y' };
    const post = async (authorization: string | null) =>
      (
        await agent.send(`${NOTIFY}?token=${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization === null ? {} : { authorization }) },
          body: JSON.stringify(body),
        })
      ).status;
    assert.equal(await post(null), 401);
    assert.equal(await post(`Bearer ${emulator.push.idToken({ aud: 'https://elsewhere.example/push' })}`), 403);
    await sleep(700);
    assert.equal(readOf(await agent.auditRecords(), quiet), false, 'an unsigned or foreign push caused no sync');
    assert.equal(await post(`Bearer ${emulator.push.idToken()}`), 204);
    await eventually('the message after a genuine push', async () => readOf(await agent.auditRecords(), quiet));
  });

  test('a push-enabled agent answers the Graph validation handshake with the token as text/plain', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    const mailbox = outlookBox(emulator);
    const config = clientConfig(uniqueClient(), mailbox.mailbox, 'outlook', { push: { notificationUrl: 'https://agent.acme.example/v1/mail-notifications' } });
    // Not introduced: the handshake needs no secret and no volume.
    bed.onTeardown(() => emulator.stop());
    const agent = await bed.startAgent({ config, mailbox: mailbox as MailboxUnderTest });
    const response = await agent.send(`${NOTIFY}?validationToken=${encodeURIComponent('Validation: Testing 42')}`, { method: 'POST', headers: { 'content-type': 'text/plain' } });
    assert.equal(response.status, 200);
    assert.match(String(response.headers['content-type'] ?? ''), /^text\/plain/);
    assert.equal(await response.text(), 'Validation: Testing 42');
    const early = await notify(agent, '', { value: [{ subscriptionId: 's', clientState: 'x' }] });
    assert.equal(early, 404, 'no notification is taken before a watch exists');
  });
});
