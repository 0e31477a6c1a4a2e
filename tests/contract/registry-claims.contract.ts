// The registry's claims on a client, the same on every backend: the final moves of an operation (to active,
// or failed on its rollback) happen only while that operation still owns the client, so one that was taken
// over never finishes over the operation that took it.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import type { NewClient, Registry } from '../../orchestrator/src/ports/registry.ts';

/** One registry under test, and how to empty it and let it go. */
export interface RegistryTarget {
  registry: Registry;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const STALE_MS = 60_000;
const T0 = new Date('2026-12-01T08:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const acme = parseClientId('acme');
const client: NewClient = { id: acme, provider: 'gmail', admins: ['ops@acme.example'], configYaml: 'client: acme\n', onboardingStartedAt: T0.toISOString() };

export function describeRegistryClaimContract(name: string, open: () => Promise<RegistryTarget>): void {
  describe(`registry claim contract: ${name}`, () => {
    let target: RegistryTarget;
    before(async () => {
      target = await open();
    });
    beforeEach(() => target.reset());
    after(() => target?.close());

    test('a transition for an operation moves the client while that operation owns it', async () => {
      const { registry } = target;
      assert.equal((await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS)).outcome, 'claimed');
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(1), { operationId: 'op-first' }), true);
      assert.equal((await registry.getClient(acme))?.status, 'active');
    });

    test('a transition for an operation that was taken over moves nothing', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal((await registry.claimForProvisioning(client, 'op-second', later(STALE_MS), STALE_MS)).outcome, 'claimed');
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(STALE_MS + 1), { operationId: 'op-first' }), false);
      assert.equal(await registry.transition(acme, ['provisioning'], 'failed', 'rolled back', later(STALE_MS + 1), { operationId: 'op-first' }), false);
      const record = await registry.getClient(acme);
      assert.equal(record?.status, 'provisioning');
      assert.equal(record?.operationId, 'op-second');
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(STALE_MS + 2), { operationId: 'op-second' }), true);
    });

    test('a transition for an operation still needs the client in one of the states it moves from', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal(await registry.transition(acme, ['provisioning'], 'killed', 'kill switch', later(1)), true);
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(2), { operationId: 'op-first' }), false);
      assert.equal((await registry.getClient(acme))?.status, 'killed');
    });

    test('a transition without an operation (the kill switch) moves the client whichever operation owns it', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.claimForProvisioning(client, 'op-second', later(STALE_MS), STALE_MS);
      assert.equal(await registry.transition(acme, ['provisioning'], 'killed', 'kill switch', later(STALE_MS + 1)), true);
      assert.equal((await registry.getClient(acme))?.status, 'killed');
    });

    test('a claim makes the operation the owner: the one before it (kept through a kill) moves nothing after it', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal(await registry.transition(acme, ['provisioning'], 'killed', 'kill switch', later(1)), true);
      assert.equal(await registry.claim(acme, 'op-revive', { from: ['killed'], to: 'provisioning', reason: 'reviving' }, later(2), STALE_MS), true);
      const record = await registry.getClient(acme);
      assert.equal(record?.status, 'provisioning');
      assert.equal(record?.operationId, 'op-revive');
      assert.equal(record?.operationHeartbeatAt, later(2).toISOString(), 'the claim starts with a fresh heartbeat');
      assert.equal(record?.statusReason, 'reviving');
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(3), { operationId: 'op-first' }), false);
      assert.equal(await registry.transition(acme, ['provisioning'], 'active', null, later(3), { operationId: 'op-revive' }), true);
    });

    test('a claim needs the client in one of the states it moves from', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.transition(acme, ['provisioning'], 'active', null, later(1), { operationId: 'op-first' });
      assert.equal(await registry.claim(acme, 'op-revive', { from: ['killed'], to: 'provisioning', reason: null }, later(2), STALE_MS), false);
      const record = await registry.getClient(acme);
      assert.equal(record?.status, 'active');
      assert.equal(record?.operationId, 'op-first');
    });

    test('a claim takes a provisioning over only once its heartbeat is stale', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.recordProgress(acme, 'op-first', 'container', later(10));
      const move = { from: ['provisioning', 'active'] as const, to: 'deprovisioning' as const, reason: null };
      assert.equal(await registry.claim(acme, 'op-close', move, later(STALE_MS + 9), STALE_MS), false, 'a live provisioning is not taken over');
      assert.equal((await registry.getClient(acme))?.operationId, 'op-first');
      assert.equal(await registry.claim(acme, 'op-close', move, later(STALE_MS + 10), STALE_MS), true);
      const record = await registry.getClient(acme);
      assert.equal(record?.status, 'deprovisioning');
      assert.equal(record?.operationId, 'op-close');
    });

    test('a claimed client is busy for a provisioning while its claim beats', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.transition(acme, ['provisioning'], 'active', null, later(1), { operationId: 'op-first' });
      // Long after the provisioning's own heartbeat: a restore claims the client, and its claim is what counts.
      assert.equal(await registry.claim(acme, 'op-restore', { from: ['active'], to: 'provisioning', reason: 'restoring' }, later(10 * STALE_MS), STALE_MS), true);
      assert.equal((await registry.claimForProvisioning(client, 'op-other', later(10 * STALE_MS + 1), STALE_MS)).outcome, 'busy');
      assert.equal((await registry.getClient(acme))?.operationId, 'op-restore');
    });

    test('a delete for an operation deletes the client only while that operation owns it', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal(await registry.transition(acme, ['provisioning'], 'failed', 'rolled back', later(1), { operationId: 'op-first' }), true);
      // A failed client is claimable at once: another provisioning claims it before the first deletes its row.
      assert.equal((await registry.claimForProvisioning(client, 'op-second', later(2), STALE_MS)).outcome, 'claimed');
      assert.equal(await registry.deleteClient(acme, { operationId: 'op-first' }), false);
      const record = await registry.getClient(acme);
      assert.equal(record?.status, 'provisioning');
      assert.equal(record?.operationId, 'op-second');
      assert.equal(await registry.deleteClient(acme, { operationId: 'op-second' }), true);
      assert.equal(await registry.getClient(acme), null);
    });

    test('a claim takes a closure (deprovisioning) over only once its heartbeat is stale or released', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.transition(acme, ['provisioning'], 'active', null, later(1), { operationId: 'op-first' });
      const close = { from: ['active', 'deprovisioning'] as const, to: 'deprovisioning' as const, reason: null };
      assert.equal(await registry.claim(acme, 'op-close', close, later(2), STALE_MS), true);
      assert.equal(await registry.claim(acme, 'op-again', close, later(3), STALE_MS), false, 'a running closure is not closed twice');
      assert.equal(await registry.releaseClaim(acme, 'op-again', later(4)), false, 'only the owner releases its claim');
      assert.equal(await registry.claim(acme, 'op-again', close, later(5), STALE_MS), false);
      assert.equal(await registry.releaseClaim(acme, 'op-close', later(6)), true);
      const released = await registry.getClient(acme);
      assert.equal(released?.status, 'deprovisioning', 'a release leaves the status as the operation left it');
      assert.equal(released?.operationHeartbeatAt, null);
      assert.equal(await registry.claim(acme, 'op-again', close, later(7), STALE_MS), true);
      assert.equal((await registry.claimForProvisioning(client, 'op-provision', later(8), STALE_MS)).outcome, 'busy');
    });

    test('a subnet written for an operation is written only while that operation owns the client', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      await registry.setSubnet(acme, '10.77.0.0/28', { operationId: 'op-first' });
      await registry.claimForProvisioning(client, 'op-second', later(STALE_MS), STALE_MS);
      await registry.setSubnet(acme, null, { operationId: 'op-first' });
      assert.equal((await registry.getClient(acme))?.subnet, '10.77.0.0/28');
      await registry.setSubnet(acme, null, { operationId: 'op-second' });
      assert.equal((await registry.getClient(acme))?.subnet, null);
    });

    test('a delete of a client without a row never deletes a row made meanwhile', async () => {
      const { registry } = target;
      assert.equal(await registry.deleteClient(acme, { withoutRow: true }), true, 'nothing of it left');
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal(await registry.deleteClient(acme, { withoutRow: true }), false);
      assert.equal((await registry.getClient(acme))?.operationId, 'op-first');
    });

    test('a delete without an operation deletes the client whichever operation owns it', async () => {
      const { registry } = target;
      await registry.claimForProvisioning(client, 'op-first', T0, STALE_MS);
      assert.equal(await registry.deleteClient(acme), true);
      assert.equal(await registry.getClient(acme), null);
      assert.equal(await registry.deleteClient(acme), false, 'nothing left to delete');
    });
  });
}
