// Closing the read of a killed client's volume puts everything back even when the engine fails a step: the
// kill switch's lock on its Vault policy must not stay undone because a reader container would not go.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { openAgentData } from '../../../orchestrator/src/services/export/agent-data.ts';
import { acmeRecord } from '../../helpers/client-record.ts';


const killedClient = (): ClientRecord => acmeRecord({ status: 'killed', statusReason: 'kill switch' });

describe('closing the export read of a killed client', () => {
  test('a reader the engine will not remove still leaves the policy locked again and the reader’s tokens revoked', async () => {
    const calls: string[] = [];
    const runtime = {
      kind: 'docker',
      inspectAgent: async () => null,
      volumes: {
        startReader: async () => '10.9.0.2:8080',
        removeHelpers: async () => {
          calls.push('removeHelpers');
          if (calls.includes('POST /v1/data-export/session/close')) throw new FleetError('unavailable', 'engine down (injected)');
        },
      } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
    } as Partial<ContainerRuntime> as ContainerRuntime;
    const secrets = {
      readControlToken: async () => 'control-token',
      isLocked: async () => true,
      unlockClient: async () => void calls.push('unlockClient'),
      lockClient: async () => void calls.push('lockClient'),
      revokeAgentTokens: async () => {
        calls.push('revokeAgentTokens');
        return { revoked: 1 };
      },
      issueAgentIntroduction: async () => ({ wrappingToken: 'wrap', creationPath: 'auth/token/create/fleet-acme', ttlSeconds: 60, tokenAccessor: 'accessor' }),
    } as Partial<SecretStore> as SecretStore;
    const control = {
      request: async (_clientId: unknown, _address: string, _token: string, method: string, path: string) => void calls.push(`${method} ${path}`),
    } as Partial<AgentControl> as AgentControl;
    const data = await openAgentData(
      {
        config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }),
        runtime,
        secrets,
        control,
        health: { isHealthy: async () => true },
        vaultAddressFor: async () => 'https://10.9.0.1:8200',
        logger: createSilentLogger(),
      },
      killedClient(),
    );
    assert.equal(data.via, 'volume-reader');
    calls.length = 0;
    await assert.rejects(data.close(), (error: unknown) => isFleetError(error) && /engine down/.test(error.message));
    assert.deepEqual(calls, ['POST /v1/data-export/session/close', 'removeHelpers', 'lockClient', 'revokeAgentTokens']);
  });
});
