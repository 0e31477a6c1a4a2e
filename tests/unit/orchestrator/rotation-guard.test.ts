// A rotation and a restore (or revive) of the same client never overlap: each re-introduces the agent, and
// a rotation that revoked the tokens and then failed beside a restore would revoke the one the restore had
// just handed over, leaving an active client whose agent holds no working token. They share the fleet's
// one-operation-per-client guard: whichever comes second is refused as busy and touches nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { RotateCredentialsService } from '../../../orchestrator/src/services/rotate-credentials.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';
import { runtimeWithRunningAgent } from '../../helpers/running-agent.ts';

const CLIENT = 'acme' as ClientId;

function rotation(bed: { opened: { registry: Registry } }, guard: ClientOperationGuard, touched: string[], introduceGate: Promise<void>) {
  const secrets = {
    revokeAgentTokens: async () => {
      touched.push('revoke');
      return { revoked: 1 };
    },
    rotateDataKey: async () => ({ version: 2 }),
    issueControlToken: async () => 'control',
    agentTokenAccessors: async () => ['old'],
    revokeAgentTokenAccessors: async () => {
      touched.push('revoke');
      return { revoked: 1 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = runtimeWithRunningAgent(CLIENT, { kind: 'docker' });
  return new RotateCredentialsService({
    registry: bed.opened.registry,
    runtime,
    secrets,
    logger: createSilentLogger(),
    renewTls: async () => undefined,
    introduce: async () => {
      touched.push('introduce');
      await introduceGate;
    },
    guard,
    guardWaitMs: 0,
  });
}

for (const backend of inProcessBackends) {
  describe(`a rotation beside a restore of the same client (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'rotation-guard');

    test('a rotation while a restore holds the client is refused as busy, and no token is revoked', async () => {
      const guard = new ClientOperationGuard();
      const touched: string[] = [];
      let finishRestore!: () => void;
      const restore = guard.exclusive(CLIENT, 'restore', () => new Promise<void>((resolve) => (finishRestore = resolve)));
      const rotated = rotation(bed, guard, touched, Promise.resolve()).rotate({ clientId: CLIENT, reason: 'monthly', actor: 'scheduler' });
      await assert.rejects(rotated, (error: unknown) => error instanceof FleetError && error.code === 'busy');
      assert.deepEqual(touched, []);
      finishRestore();
      await restore;
    });

    test('a restore while a rotation runs is refused as busy; the rotation completes', async () => {
      const guard = new ClientOperationGuard();
      const touched: string[] = [];
      let open!: () => void;
      const rotated = rotation(bed, guard, touched, new Promise<void>((resolve) => (open = resolve))).rotate({ clientId: CLIENT, reason: 'monthly', actor: 'ops' });
      while (!touched.includes('introduce')) await new Promise((resolve) => setImmediate(resolve));
      await assert.rejects(
        guard.exclusive(CLIENT, 'restore', async () => assert.fail('the restore ran beside the rotation')),
        (error: unknown) => error instanceof FleetError && error.code === 'busy',
      );
      open();
      assert.equal((await rotated).dataKeyVersion, 2);
    });
  });
}
