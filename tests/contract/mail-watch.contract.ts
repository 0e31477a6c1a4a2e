import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { MailProvider, MailWatch, WatchTarget } from '../../agent-image/src/ports/mail-provider.ts';
import { isRenewalDue, renewalTime } from '../../agent-image/src/services/mail-watch/renewal-schedule.ts';

/**
 * The push half of the MailProvider contract (watch, renewWatch, unwatch), run against every adapter
 * pointed at its emulator. A loopback receiver stands in for the agent's notification endpoint.
 */

export interface WatchHarness {
  provider: MailProvider;
  /** A valid target whose notifications reach `receiver`. */
  target(receiver: NotificationReceiver): WatchTarget;
  /** A target the provider must refuse (bad topic, an endpoint failing the validation handshake). */
  refusedTarget(receiver: NotificationReceiver): WatchTarget;
  /** Longest lifetime the provider grants, ms. */
  maxLifetimeMs: number;
  /** Watches the emulator holds as active. */
  activeWatches(): number;
  /** Expiry of the emulator's active watch, epoch ms. */
  emulatorExpiry(): number | null;
  seedInbound(): Promise<string>;
  /** Waits until the emulator's pushes so far were answered. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** A loopback notification endpoint: echoes validation tokens (unless told not to), records the rest. */
export class NotificationReceiver {
  readonly bodies: unknown[] = [];
  validations = 0;
  echoValidation = true;
  #server: Server | null = null;
  #url = '';

  get url(): string {
    return this.#url;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const token = url.searchParams.get('validationToken');
        if (token !== null) {
          this.validations++;
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.end(this.echoValidation ? token : 'nope');
          return;
        }
        try {
          this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          this.bodies.push(null);
        }
        response.writeHead(202);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.#server = server;
    this.#url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function mailWatchContract(adapter: string, createHarness: (receiver: NotificationReceiver) => Promise<WatchHarness>): void {
  describe(`MailProvider watch contract: ${adapter}`, () => {
    let h: WatchHarness;
    let receiver: NotificationReceiver;
    beforeEach(async () => {
      receiver = new NotificationReceiver();
      await receiver.start();
      h = await createHarness(receiver);
    });
    afterEach(async () => {
      await h.stop();
      await receiver.stop();
    });

    it('watch starts a watch that expires in the future, within the provider maximum', async () => {
      const before = Date.now();
      const watch = await h.provider.watch(h.target(receiver));
      const expires = Date.parse(watch.expiresAt);
      assert.ok(expires > before, 'expiry in the future');
      assert.ok(expires <= before + h.maxLifetimeMs + 1000, 'expiry within the maximum');
      assert.equal(h.activeWatches(), 1);
      assert.equal(h.emulatorExpiry(), expires);
      assert.ok(watch.id.length > 0);
    });

    it('a new inbox message is pushed to the endpoint while watched, and no longer after unwatch', async () => {
      const watch = await h.provider.watch(h.target(receiver));
      await h.seedInbound();
      await h.settled();
      assert.equal(receiver.bodies.length, 1);
      await h.provider.unwatch(watch);
      assert.equal(h.activeWatches(), 0);
      await h.seedInbound();
      await h.settled();
      assert.equal(receiver.bodies.length, 1);
    });

    it('a watch is due for renewal before it expires, and renewing extends its expiry', async () => {
      const watch = await h.provider.watch(h.target(receiver));
      const due = renewalTime(watch);
      assert.ok(due.getTime() < Date.parse(watch.expiresAt), 'renewal comes before the expiry');
      assert.equal(isRenewalDue(watch, new Date(Date.parse(watch.createdAt) + 1000)), false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const renewed: MailWatch = await h.provider.renewWatch(watch, h.target(receiver));
      assert.ok(Date.parse(renewed.expiresAt) > Date.parse(watch.expiresAt), 'expiry moved later');
      assert.equal(h.activeWatches(), 1);
      assert.equal(h.emulatorExpiry(), Date.parse(renewed.expiresAt));
    });

    it('unwatch stops the watch and a second unwatch does not fail', async () => {
      const watch = await h.provider.watch(h.target(receiver));
      await h.provider.unwatch(watch);
      assert.equal(h.activeWatches(), 0);
      await h.provider.unwatch(watch);
      assert.equal(h.activeWatches(), 0);
    });

    it('a target the provider cannot use is refused as invalid input and starts nothing', async () => {
      await assert.rejects(h.provider.watch(h.refusedTarget(receiver)), (error: unknown) => error instanceof FleetError && error.code === 'invalid_input');
      assert.equal(h.activeWatches(), 0);
    });
  });
}
