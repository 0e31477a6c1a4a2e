// Outlook message ids change when a message moves to another folder, unless the request asks for
// immutable ids (`Prefer: IdType="ImmutableId"`, per request). The agent stores message ids across passes
// and restarts: a message it archived, or that the user moved back to the Inbox, must keep the id the
// agent knows, or it would be triaged again and a stored id would no longer find it. The emulator models
// both ids as Graph does, so the adapter cannot drift from it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphMailProvider } from '../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { accessTokenFor, graphTokenSource } from '../helpers/oauth-tokens.ts';
import { NotificationReceiver } from './mail-watch.contract.ts';

const FULL = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.move': true };

async function withGraph(test: (emulator: GraphEmulator, provider: GraphMailProvider) => Promise<void>): Promise<void> {
  const emulator = new GraphEmulator();
  await emulator.start();
  try {
    const provider = new GraphMailProvider({
      tokens: graphTokenSource(emulator, graphScopesFor(FULL)),
      baseUrl: emulator.baseUrl,
      canSend: true,
      logger: createSilentLogger(),
    });
    await test(emulator, provider);
  } finally {
    await emulator.stop();
  }
}

const seed = (emulator: GraphEmulator) => emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });

/** A Graph request as another client makes it (Outlook on the web, a script): no immutable-id preference. */
async function plainGet(emulator: GraphEmulator, path: string): Promise<{ status: number; body: { id?: string } }> {
  const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
  const response = await fetch(`${emulator.baseUrl}/v1.0${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: (await response.json()) as { id?: string } };
}

describe('the Graph emulator gives messages two ids, as Graph does', () => {
  it('a move changes the default id and keeps the immutable one; either finds the message', async () => {
    await withGraph(async (emulator) => {
      const { id } = seed(emulator);
      const before = await plainGet(emulator, `/me/messages/${id}`);
      assert.equal(before.status, 200);
      assert.notEqual(before.body.id, id, 'without the preference a request sees the default id');
      emulator.moveInMailbox(id, 'archive');
      const after = await plainGet(emulator, `/me/messages/${id}`);
      assert.equal(after.status, 200, 'the immutable id still finds the moved message');
      assert.notEqual(after.body.id, before.body.id, 'the default id changed with the move');
      assert.equal((await plainGet(emulator, `/me/messages/${after.body.id ?? ''}`)).status, 200);
      assert.equal(emulator.message(id)?.folder, 'archive');
    });
  });
});

describe('GraphMailProvider keeps the ids it stores across moves', () => {
  it('a message the agent archived and the user moved back to the Inbox comes back under the id already known', async () => {
    await withGraph(async (emulator, provider) => {
      const baseline = await provider.listChangesSince(null);
      const { id } = seed(emulator);
      const first = await provider.listChangesSince(baseline.nextCursor);
      assert.deepEqual(first.messageIds, [id]);
      await provider.archive(id);
      emulator.moveInMailbox(id, 'inbox');
      const second = await provider.listChangesSince(first.nextCursor);
      // The loop queues only ids it has not seen (cursor-sync.ts): the same id means no second triage.
      assert.deepEqual(second.messageIds, [id]);
      assert.equal((await provider.getMessage(id)).id, id);
    });
  });

  it('a stored id still reads, labels and archives the message after the user moved it', async () => {
    await withGraph(async (emulator, provider) => {
      const { id } = seed(emulator);
      emulator.moveInMailbox(id, 'archive');
      emulator.moveInMailbox(id, 'inbox');
      assert.equal((await provider.getMessage(id)).id, id);
      await provider.label(id, 'AgentFleet/other');
      await provider.markRead(id);
      await provider.archive(id);
      assert.deepEqual(emulator.message(id)?.categories, ['AgentFleet/other']);
      assert.equal(emulator.message(id)?.folder, 'archive');
    });
  });

  it('push notifications name new messages by their immutable id', async () => {
    await withGraph(async (emulator, provider) => {
      const receiver = new NotificationReceiver();
      await receiver.start();
      try {
        await provider.watch({ kind: 'outlook', notificationUrl: receiver.url, lifecycleNotificationUrl: receiver.url, clientState: `state-${Date.now()}`, lifetimeMinutes: 60 });
        const { id } = seed(emulator);
        await emulator.subscriptions.settled();
        const change = emulator.subscriptions.deliveries.find((delivery) => delivery.kind === 'change');
        assert.equal((change?.body.value[0]?.['resourceData'] as { id?: string } | undefined)?.id, id);
      } finally {
        await receiver.stop();
      }
    });
  });
});
