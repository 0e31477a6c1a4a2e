import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphMailProvider } from '../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { RefreshTokenGraphTokenSource } from '../../agent-image/src/adapters/graph/graph-token-source.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { ProviderAuthError, type WatchTarget } from '../../agent-image/src/ports/mail-provider.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { NotificationReceiver, mailWatchContract, type WatchHarness } from './mail-watch.contract.ts';

const CLIENT_STATE = 'k8Jd0sWq1zYt5Rb3Nv7Xc2Lm9Pa4Hg6Ee0Ff1Tt2Uu3';

async function graphEmulatorAndProvider(permissions: Record<string, boolean> = { 'mail.read': true }) {
  const emulator = new GraphEmulator();
  await emulator.start();
  const scopes = graphScopesFor(permissions);
  const provider = new GraphMailProvider({
    tokens: new RefreshTokenGraphTokenSource({
      tokenUrl: emulator.tokenUrl,
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      refreshToken: emulator.issueRefreshToken(scopes),
      scopes,
      onRefreshTokenRotated: async () => undefined,
    }),
    baseUrl: emulator.baseUrl,
    canSend: false,
    logger: createSilentLogger(),
  });
  return { emulator, provider };
}

const target = (receiver: NotificationReceiver, lifetimeMinutes = 4320): WatchTarget => ({
  kind: 'outlook',
  notificationUrl: receiver.url,
  lifecycleNotificationUrl: receiver.url,
  clientState: CLIENT_STATE,
  lifetimeMinutes,
});

mailWatchContract('GraphMailProvider', async (receiver): Promise<WatchHarness> => {
  const { emulator, provider } = await graphEmulatorAndProvider();
  return {
    provider,
    target: () => target(receiver),
    refusedTarget: (r) => {
      r.echoValidation = false;
      return target(r);
    },
    maxLifetimeMs: 10_080 * 60_000,
    activeWatches: () => emulator.subscriptions.list().length,
    emulatorExpiry: () => {
      const [subscription] = emulator.subscriptions.list();
      return subscription === undefined ? null : Date.parse(subscription.expirationDateTime);
    },
    seedInbound: async () => emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' }).id,
    settled: () => emulator.subscriptions.settled(),
    stop: () => emulator.stop(),
  };
});

describe('GraphMailProvider subscription specifics', () => {
  it('creation passes the validation handshake for both URLs and asks for created inbox messages with our clientState', async () => {
    const { emulator, provider } = await graphEmulatorAndProvider();
    const receiver = new NotificationReceiver();
    await receiver.start();
    try {
      const watch = await provider.watch(target(receiver));
      assert.equal(receiver.validations, 2, 'notification and lifecycle URLs validated');
      const [subscription] = emulator.subscriptions.list();
      assert.equal(subscription?.id, watch.id);
      assert.equal(subscription?.changeType, 'created');
      assert.equal(subscription?.resource, "me/mailFolders('inbox')/messages");
      assert.equal(subscription?.clientState, CLIENT_STATE);
      emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });
      await emulator.subscriptions.settled();
      const notification = receiver.bodies[0] as { value: { clientState: string; changeType: string; subscriptionId: string }[] };
      assert.equal(notification.value[0]?.clientState, CLIENT_STATE);
      assert.equal(notification.value[0]?.changeType, 'created');
      assert.equal(notification.value[0]?.subscriptionId, watch.id);
    } finally {
      await receiver.stop();
      await emulator.stop();
    }
  });

  it('a requested lifetime beyond the maximum is clamped under it, not refused', async () => {
    const { emulator, provider } = await graphEmulatorAndProvider();
    const receiver = new NotificationReceiver();
    await receiver.start();
    try {
      const watch = await provider.watch(target(receiver, 20_000));
      assert.ok(Date.parse(watch.expiresAt) < Date.now() + 10_080 * 60_000);
    } finally {
      await receiver.stop();
      await emulator.stop();
    }
  });

  it('renewing a subscription Graph removed is not_found, so the caller re-creates it', async () => {
    const { emulator, provider } = await graphEmulatorAndProvider();
    const receiver = new NotificationReceiver();
    await receiver.start();
    try {
      const watch = await provider.watch(target(receiver));
      assert.equal(await emulator.subscriptions.sendLifecycle('subscriptionRemoved', watch.id), 202);
      await assert.rejects(provider.renewWatch(watch, target(receiver)), (error: unknown) => error instanceof FleetError && error.code === 'not_found');
    } finally {
      await receiver.stop();
      await emulator.stop();
    }
  });

  it('a subscription needs a mail read scope', async () => {
    const { emulator, provider } = await graphEmulatorAndProvider({ 'calendar.read': true });
    const receiver = new NotificationReceiver();
    await receiver.start();
    try {
      await assert.rejects(provider.watch(target(receiver)), (error: unknown) => error instanceof ProviderAuthError && error.kind === 'insufficient_scope');
      assert.equal(emulator.subscriptions.list().length, 0);
    } finally {
      await receiver.stop();
      await emulator.stop();
    }
  });
});
