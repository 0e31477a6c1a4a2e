// The export of a closed (deprovisioned) client: its network comes back for the reader and goes again, and
// its Vault policy ends as it began (locked stays locked, unlocked is not locked). Recording stand-ins for
// the engine, Vault and the agent's control API; the real thing runs in tests/integration/data-lifecycle/export.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { AgentControl } from '../../../orchestrator/src/ports/agent-control.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord } from '../../../orchestrator/src/ports/registry.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { openAgentData, type AgentDataDependencies } from '../../../orchestrator/src/services/export/agent-data.ts';
import { reopenClosedClientNetwork } from '../../../orchestrator/src/services/export/closed-client-network.ts';
import { acmeRecord } from '../../helpers/client-record.ts';


const closedClient = (): ClientRecord => acmeRecord({ status: 'deprovisioned', configYaml: '{"client":"acme"}', subnet: null, statusReason: 'contract ended' });

/** The engine, Vault and control API as an export of a closed client uses them, each call recorded. */
function standIns(calls: string[], options: { locked: boolean; failNetwork?: boolean }) {
  const record = (what: string) => void calls.push(what);
  const runtime = {
    kind: 'docker',
    inspectAgent: async () => null,
    ensureNetwork: async (clientId: ClientId, subnet: string) => {
      record(`ensureNetwork ${clientId} ${subnet}`);
      if (options.failNetwork === true) throw new FleetError('unavailable', 'engine down (injected)');
      return { name: `fleet-${clientId}`, subnet, gateway: '10.9.0.1', created: true };
    },
    removeNetwork: async (clientId: ClientId) => record(`removeNetwork ${clientId}`),
    volumes: {
      startReader: async () => {
        record('startReader');
        return '10.9.0.2:8080';
      },
      removeHelpers: async () => record('removeHelpers'),
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const secrets = {
    readControlToken: async () => 'control-token',
    isLocked: async () => options.locked,
    unlockClient: async () => record('unlockClient'),
    lockClient: async () => record('lockClient'),
    revokeAgentTokens: async () => {
      record('revokeAgentTokens');
      return { revoked: 1 };
    },
    issueAgentIntroduction: async () => {
      record('issueAgentIntroduction');
      return { wrappingToken: 'wrap', creationPath: 'auth/token/create/fleet-acme', ttlSeconds: 60, tokenAccessor: 'accessor' };
    },
  } as Partial<SecretStore> as SecretStore;
  const control = {
    request: async (_clientId: ClientId, _address: string, _token: string, method: string, path: string) => {
      record(`${method} ${path}`);
      return undefined;
    },
  } as Partial<AgentControl> as AgentControl;
  const registry = { setSubnet: async (clientId: ClientId, subnet: string | null) => record(`setSubnet ${clientId} ${subnet}`) };
  const deps: AgentDataDependencies = {
    config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }),
    runtime,
    secrets,
    control,
    health: { isHealthy: async () => true },
    vaultAddressFor: async () => 'https://10.9.0.1:8200',
    logger: createSilentLogger(),
    reopenNetwork: (clientId) =>
      reopenClosedClientNetwork(
        { subnets: { allocate: async () => '10.9.0.0/28' }, runtime, registry, vaultAddressFor: async () => 'https://10.9.0.1:8200' },
        clientId,
      ),
  };
  return deps;
}

describe('exporting a closed client', () => {
  test('a locked client: network back, policy unlocked only for the read, then locked again, tokens revoked, network gone', async () => {
    const calls: string[] = [];
    const data = await openAgentData(standIns(calls, { locked: true }), closedClient());
    assert.equal(data.via, 'volume-reader');
    assert.deepEqual(calls, [
      'ensureNetwork acme 10.9.0.0/28',
      'startReader',
      'unlockClient',
      'issueAgentIntroduction',
      'POST /v1/data-export/session',
    ]);
    calls.length = 0;
    await data.close();
    assert.deepEqual(calls, [
      'POST /v1/data-export/session/close',
      'removeHelpers',
      'lockClient',
      'revokeAgentTokens',
      'removeNetwork acme',
      'setSubnet acme null',
    ]);
  });

  test('an unlocked client stays unlocked (never locked by the export); the reader’s token is revoked', async () => {
    const calls: string[] = [];
    const data = await openAgentData(standIns(calls, { locked: false }), closedClient());
    await data.close();
    assert.ok(!calls.includes('unlockClient') && !calls.includes('lockClient'), calls.join(', '));
    assert.deepEqual(calls.slice(-3), ['revokeAgentTokens', 'removeNetwork acme', 'setSubnet acme null']);
  });

  test('a network that cannot be made back leaves nothing: no reader, no subnet held', async () => {
    const calls: string[] = [];
    await assert.rejects(openAgentData(standIns(calls, { locked: true, failNetwork: true }), closedClient()), /engine down/);
    assert.deepEqual(calls, ['ensureNetwork acme 10.9.0.0/28', 'removeNetwork acme', 'setSubnet acme null']);
  });

  test('without a way to make the network back, a closed client is refused before anything is touched', async () => {
    const calls: string[] = [];
    const { reopenNetwork: _dropped, ...withoutReopen } = standIns(calls, { locked: false });
    await assert.rejects(openAgentData(withoutReopen, closedClient()), (error: unknown) => error instanceof FleetError && error.code === 'unavailable');
    assert.deepEqual(calls, []);
  });
});
