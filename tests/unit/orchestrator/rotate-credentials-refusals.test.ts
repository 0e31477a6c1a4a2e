// What an operator is told when a rotation is refused or fails: a client missing from the registry is "not
// found" (it was refused as a conflict with "unknown" status), a client that is not active is refused with
// why and what to do instead, touching nothing, and a failure says where the agent stands and what next.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { RotateCredentialsService } from '../../../orchestrator/src/services/rotate-credentials.ts';
import { clientOnRegistry, inProcessBackends } from '../../helpers/client-on-registry.ts';
import { runtimeWithRunningAgent } from '../../helpers/running-agent.ts';

const CLIENT = 'acme' as ClientId;

for (const backend of inProcessBackends) {
  describe(`rotation refusals and failures, as the operator reads them (${backend.name} registry)`, () => {
    const bed = clientOnRegistry(backend, { id: CLIENT, status: 'active', reason: null }, 'rotate-refusals');

    /** A rotation whose store records every change it is asked for; `dataKey` decides the first step. */
    function rotation(options: { runtime?: ContainerRuntime; dataKey?: () => Promise<{ version: number }> } = {}) {
      const changes: string[] = [];
      const secrets = {
        agentTokenAccessors: async () => ['old'],
        rotateDataKey: async () => {
          changes.push('data key');
          return (options.dataKey ?? (async () => ({ version: 2 })))();
        },
        issueControlToken: async () => {
          changes.push('control token');
          return 'control';
        },
        revokeAgentTokens: async () => {
          changes.push('revoke all');
          return { revoked: 1 };
        },
        revokeAgentTokenAccessors: async () => {
          changes.push('revoke old');
          return { revoked: 1 };
        },
      } as Partial<SecretStore> as SecretStore;
      const service = new RotateCredentialsService({
        registry: bed.opened.registry,
        runtime: options.runtime ?? runtimeWithRunningAgent(CLIENT, { kind: 'docker' }),
        secrets,
        logger: createSilentLogger(),
        renewTls: async () => changes.push('tls'),
        introduce: async () => void changes.push('introduce'),
        guardWaitMs: 0,
      });
      return { changes, rotate: (clientId: string = CLIENT) => service.rotate({ clientId, reason: 'monthly', actor: 'ops' }) };
    }

    test('a client that is not in the registry is not found, and nothing is touched', async () => {
      const { changes, rotate } = rotation();
      await assert.rejects(rotate('nobody'), (error: unknown) => error instanceof FleetError && error.code === 'not_found' && /no client "nobody"/.test(error.message));
      assert.deepEqual(changes, []);
    });

    const refusals: Array<[Exclude<ClientStatus, 'active'>, RegExp]> = [
      ['killed', /fleet revive/],
      ['deprovisioned', /nothing was rotated, and nothing needs to be/],
      ['deprovisioning', /nothing was rotated, and nothing needs to be/],
      ['failed', /provision it again/],
      ['provisioning', /rotate once it is active/],
    ];
    for (const [status, advice] of refusals) {
      test(`a ${status} client is refused as a conflict that says what to do instead, and nothing is touched`, async () => {
        await bed.opened.registry.setStatus(CLIENT, status, 'test', new Date());
        const { changes, rotate } = rotation();
        await assert.rejects(rotate(), (error: unknown) => {
          assert.ok(error instanceof FleetError && error.code === 'conflict', String(error));
          assert.match(error.message, advice);
          return true;
        });
        assert.deepEqual(changes, []);
      });
    }

    test('an agent that is not running is refused as retryable, saying nothing changed and to rotate once it runs', async () => {
      const stopped = { kind: 'docker', inspectAgent: async () => null } as Partial<ContainerRuntime> as ContainerRuntime;
      const { changes, rotate } = rotation({ runtime: stopped });
      await assert.rejects(rotate(), (error: unknown) => {
        assert.ok(error instanceof FleetError && error.code === 'unavailable' && error.retryable, String(error));
        assert.match(error.message, /nothing was changed: rotate again once it runs/);
        return true;
      });
      assert.deepEqual(changes, []);
    });

    test('a failed step keeps its code and says the agent keeps its token and to rotate again', async () => {
      const { changes, rotate } = rotation({ dataKey: () => Promise.reject(new FleetError('unavailable', 'vault: rotate data key failed (503)', { retryable: true })) });
      await assert.rejects(rotate(), (error: unknown) => {
        assert.ok(error instanceof FleetError && error.code === 'unavailable' && error.retryable, String(error));
        assert.match(error.message, /rotate data key failed \(503\).*the agent keeps working with its current token; rotate again/);
        return true;
      });
      assert.deepEqual(changes, ['data key'], 'no token was revoked');
    });
  });
}
