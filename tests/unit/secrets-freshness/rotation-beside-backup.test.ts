// An incident's containment rotates a client's credentials; a routine backup or export of the same client
// holding the per-client guard must not make that rotation fail at once. The rotation waits a bounded time
// for the guard, then is refused as busy having touched nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { RotateCredentialsService } from '../../../orchestrator/src/services/rotate-credentials.ts';
import { runtimeWithRunningAgent } from '../../helpers/running-agent.ts';

const CLIENT = 'acme' as ClientId;

function rotation(guard: ClientOperationGuard, guardWaitMs: number, touched: string[]) {
  const registry = {
    getClient: async () => ({ id: CLIENT, status: 'active' }),
    appendOpsLog: async () => undefined,
  } as unknown as Registry;
  const secrets = {
    agentTokenAccessors: async () => ['old'],
    rotateDataKey: async () => {
      touched.push('data-key');
      return { version: 2 };
    },
    issueControlToken: async () => 'control',
    revokeAgentTokenAccessors: async () => {
      touched.push('revoke');
      return { revoked: 1 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = runtimeWithRunningAgent(CLIENT);
  return new RotateCredentialsService({
    registry,
    runtime,
    secrets,
    logger: createSilentLogger(),
    renewTls: async () => undefined,
    introduce: async () => void touched.push('introduce'),
    guard,
    guardWaitMs,
  });
}

/** Resolves once everything the code under test can do without time passing is done. */
const idle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a credential rotation beside another operation on the client', () => {
  test('waits for a backup that ends within its bound, then rotates', async () => {
    const guard = new ClientOperationGuard();
    const touched: string[] = [];
    const backup = guard.exclusive(CLIENT, 'backup', () => new Promise<void>((resolve) => setTimeout(resolve, 100)));
    const result = await rotation(guard, 5_000, touched).rotate({ clientId: CLIENT, reason: 'INC-1: contained', actor: 'on-call' });
    await backup;
    assert.equal(result.dataKeyVersion, 2);
    assert.deepEqual(touched, ['data-key', 'introduce', 'revoke']);
  });

  test('is refused as busy, naming the operation, once its bound has passed; nothing is touched', async (t) => {
    // Virtual time: the bound is the configured 150 ms to the millisecond, whatever the machine's load.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const guard = new ClientOperationGuard();
    const touched: string[] = [];
    let finish!: () => void;
    const exporting = guard.exclusive(CLIENT, 'data export', () => new Promise<void>((resolve) => (finish = resolve)));
    let settledAs: unknown = 'waiting';
    const outcome = (): unknown => settledAs;
    void rotation(guard, 150, touched)
      .rotate({ clientId: CLIENT, reason: 'INC-1: contained', actor: 'on-call' })
      .then(() => 'rotated', (error: unknown) => error)
      .then((settled) => (settledAs = settled));
    await idle();
    t.mock.timers.tick(149);
    await idle();
    assert.equal(outcome(), 'waiting', 'still waiting a millisecond before its bound');
    t.mock.timers.tick(1);
    await idle();
    const refusal = outcome();
    assert.ok(refusal instanceof FleetError && refusal.code === 'busy' && /data export/.test(refusal.message), String(refusal));
    assert.deepEqual(touched, []);
    finish();
    await exporting;
  });

  test('an operation that does not wait is still refused at once', async () => {
    const guard = new ClientOperationGuard();
    let finish!: () => void;
    const backup = guard.exclusive(CLIENT, 'backup', () => new Promise<void>((resolve) => (finish = resolve)));
    await assert.rejects(guard.exclusive(CLIENT, 'restore', async () => assert.fail('ran beside the backup')), (error: unknown) => error instanceof FleetError && error.code === 'busy');
    finish();
    await backup;
  });

  test('two waiters behind one operation never run together', async () => {
    const guard = new ClientOperationGuard();
    let inside = 0;
    let overlapped = false;
    const work = async () => {
      inside++;
      if (inside > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside--;
    };
    const first = guard.exclusive(CLIENT, 'backup', () => new Promise<void>((resolve) => setTimeout(resolve, 30)));
    const waiters = [guard.exclusive(CLIENT, 'credential rotation', work, { waitMs: 2_000 }), guard.exclusive(CLIENT, 'credential rotation', work, { waitMs: 2_000 })];
    await first;
    await Promise.all(waiters);
    assert.equal(overlapped, false);
  });
});
