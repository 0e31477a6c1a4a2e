import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { GmailMailProvider } from '../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { mailWatchContract, type WatchHarness } from './mail-watch.contract.ts';

const TOPIC = 'projects/acme-mail-push/topics/gmail-inbox';

async function gmailEmulatorAndProvider(): Promise<{ emulator: GmailEmulator; provider: GmailMailProvider }> {
  const emulator = new GmailEmulator();
  await emulator.start();
  const provider = new GmailMailProvider({
    oauth: {
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      refreshToken: emulator.issueRefreshToken(gmailScopesFor({ 'mail.read': true })),
      tokenUrl: emulator.tokenUrl,
    },
    onRefreshTokenRotated: async () => undefined,
    rootUrl: emulator.rootUrl,
    canSend: false,
    logger: createSilentLogger(),
  });
  return { emulator, provider };
}

mailWatchContract('GmailMailProvider', async (receiver): Promise<WatchHarness> => {
  const { emulator, provider } = await gmailEmulatorAndProvider();
  emulator.push.setPushEndpoint(`${receiver.url}?token=test`);
  return {
    provider,
    target: () => ({ kind: 'gmail', topicName: TOPIC }),
    refusedTarget: () => ({ kind: 'gmail', topicName: 'topics/not-a-full-name' }),
    maxLifetimeMs: 7 * 86_400_000,
    activeWatches: () => (emulator.push.watch === null ? 0 : 1),
    emulatorExpiry: () => emulator.push.watch?.expiration ?? null,
    seedInbound: async () => (await emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' })).id,
    settled: () => emulator.push.settled(),
    stop: () => emulator.stop(),
  };
});

describe('GmailMailProvider watch specifics', () => {
  it('watches the inbox only (labelIds INBOX, include) and the push carries the mailbox and a history id', async () => {
    const { emulator, provider } = await gmailEmulatorAndProvider();
    try {
      const received: unknown[] = [];
      const server = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          received.push(JSON.parse(body));
          response.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const { port } = server.address() as AddressInfo;
      emulator.push.setPushEndpoint(`http://127.0.0.1:${port}/push?token=t`);
      await provider.watch({ kind: 'gmail', topicName: TOPIC });
      assert.deepEqual(emulator.push.watch?.labelIds, ['INBOX']);
      assert.equal(emulator.push.watch?.labelFilterBehavior, 'include');
      await emulator.seedInbound({ from: 'x@y.example', to: [emulator.mailbox], subject: 'S', text: 'T', labelIds: ['SPAM'] });
      await emulator.seedInbound({ from: 'x@y.example', to: [emulator.mailbox], subject: 'S', text: 'T' });
      await emulator.push.settled();
      server.close();
      assert.equal(received.length, 1, 'only the inbox message is pushed');
      const push = received[0] as { message: { data: string }; subscription: string };
      const data = JSON.parse(Buffer.from(push.message.data, 'base64').toString('utf8')) as { emailAddress: string; historyId: number };
      assert.equal(data.emailAddress, emulator.mailbox);
      assert.equal(data.historyId, emulator.currentHistoryId);
      assert.match(push.subscription, /^projects\/[^/]+\/subscriptions\//);
    } finally {
      await emulator.stop();
    }
  });
});
