// A Gmail push is authenticated by its URL token before its body is read: a caller without the token
// costs no parsing and learns nothing from how the body would have been refused (CONTROL-API.md).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import express from 'express';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { httpStatusOf } from '@agent-fleet/kernel/error-status';
import { mountMailNotifications } from '../../../agent-image/src/http/mail-notification-route.ts';
import type { MailProvider, MailWatch } from '../../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { PushSync } from '../../../agent-image/src/services/mail-watch/push-sync.ts';

const MAILBOX = 'owner@acme.example';

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

function pushBody(): string {
  return JSON.stringify({
    message: { data: Buffer.from(JSON.stringify({ emailAddress: MAILBOX, historyId: 4321 })).toString('base64'), messageId: '7', publishTime: new Date().toISOString() },
    subscription: 'projects/acme-mail/subscriptions/agent',
  });
}

describe('the Gmail push route checks the URL token before the body', () => {
  const parsed = parseClientConfig({ client: 'acme', provider: 'gmail', mailbox: MAILBOX, push: { gmailTopic: 'projects/acme-mail/topics/gmail-inbox' } });
  assert.ok(parsed.ok);
  const push = new PushSync({ config: parsed.config, logger: createSilentLogger(), now: () => new Date(), sync: async () => undefined, stopped: () => false, notificationDebounceMs: 1 });
  let server: Server;
  let url: string;
  let token: string;

  before(async () => {
    const source = memorySource();
    push.start({ provider: gmailWatchProvider(), providerKind: 'gmail', source: () => source, audit: async () => undefined });
    while (push.status.expiresAt === null) await new Promise((resolve) => setImmediate(resolve));
    token = (JSON.parse((await source.readSecretData('push'))?.['value'] ?? '{}') as { token: string }).token;
    const app = express();
    mountMailNotifications(app, push);
    app.use((error: unknown, _request: express.Request, response: express.Response, _next: express.NextFunction) => {
      const code = isFleetError(error) ? error.code : 'internal';
      response.status(httpStatusOf(code)).json({ code, message: isFleetError(error) ? error.message : 'internal error' });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/mail-notifications`;
  });
  after(async () => {
    await push.stop('test');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const post = async (query: string, body: string) => {
    const response = await fetch(`${url}${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, body: (await response.text()) };
  };
  const wrongToken = () => randomBytes(24).toString('base64url');
  const tooLarge = `{"pad":"${'x'.repeat(70 * 1024)}"}`;

  test('without the token a broken or oversized body is a 401, not a 400', async () => {
    assert.equal((await post('', '{"message":')).status, 401);
    assert.equal((await post('', tooLarge)).status, 401);
  });

  test('with a wrong token a broken or oversized body is a 403 that says nothing of the body', async () => {
    for (const body of ['{"message":', tooLarge]) {
      const answer = await post(`?token=${wrongToken()}`, body);
      assert.equal(answer.status, 403);
      assert.doesNotMatch(answer.body, /bytes|JSON/);
    }
  });

  test('with the right token the body is still read and checked', async () => {
    assert.equal((await post(`?token=${token}`, '{"message":')).status, 400);
    assert.equal((await post(`?token=${token}`, tooLarge)).status, 400);
    assert.equal((await post(`?token=${token}`, pushBody())).status, 204);
  });
});
