import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { MailProvider, MailWatch } from '../../../agent-image/src/ports/mail-provider.ts';
import type { SecretSource } from '../../../agent-image/src/ports/secret-source.ts';
import { PushSync, type WatchedMailbox } from '../../../agent-image/src/services/mail-watch/push-sync.ts';

const DAY = 86_400_000;

/** Graph's side of the watch calls, with unsubscribes that can be held (a slow provider). */
function slowUnwatchProvider() {
  const active = new Set<string>();
  let next = 1;
  let held: Promise<void> | null = null;
  let release = () => {};
  const watchOf = (id: string): MailWatch => ({ id, kind: 'outlook', createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3 * DAY).toISOString() });
  const provider = {
    async watch(): Promise<MailWatch> {
      const id = `sub-${next++}`;
      active.add(id);
      return watchOf(id);
    },
    async renewWatch(watch: MailWatch): Promise<MailWatch> {
      if (!active.has(watch.id)) throw new FleetError('not_found', 'no such subscription');
      return watchOf(watch.id);
    },
    async unwatch(watch: MailWatch): Promise<void> {
      await held;
      active.delete(watch.id);
    },
  };
  return {
    active,
    provider: provider as unknown as MailProvider,
    holdUnwatch: () => {
      held = new Promise<void>((resolve) => (release = resolve));
      return () => release();
    },
  };
}

/** The Vault KV the push secret lives in, in memory. */
function memorySource(): SecretSource {
  const data = new Map<string, string>();
  const source = {
    readSecretData: async (name: string) => (data.has(name) ? { value: data.get(name) ?? '' } : null),
    writeSecret: async (name: string, value: string) => void data.set(name, value),
  };
  return source as unknown as SecretSource;
}

async function eventually(what: string, probe: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a revive while the kill is still unwatching ends with a live watch, not a trusted dead one', async () => {
  const parsed = parseClientConfig({ client: 'acme', provider: 'outlook', push: { notificationUrl: 'https://agent.acme.example/v1/mail-notifications' } });
  assert.ok(parsed.ok);
  const fake = slowUnwatchProvider();
  const source = memorySource();
  const mailbox: WatchedMailbox = { provider: fake.provider, providerKind: 'outlook', source: () => source, audit: async () => undefined };
  const push = new PushSync({ config: parsed.config, logger: createSilentLogger(), now: () => new Date(), sync: async () => undefined, stopped: () => false });
  push.start(mailbox);
  await eventually('the first watch', () => fake.active.has('sub-1'));

  const release = fake.holdUnwatch();
  const killed = push.stop('kill');
  push.start(mailbox);
  await new Promise((resolve) => setTimeout(resolve, 50));
  release();
  await killed;

  await eventually('a live watch after the revive', () => fake.active.size === 1 && push.status.expiresAt !== null);
  await push.ensure();
  assert.deepEqual([...fake.active], ['sub-2']);
  assert.equal(push.status.enabled, true);
  await push.stop('shutdown');
});
