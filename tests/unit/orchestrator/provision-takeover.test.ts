// A provisioning that loses its claim while it runs (taken over once it stalled past the take-over age, or killed)
// against a real registry and recording stand-ins for Vault, the engine and the scrape targets: it is never
// marked active, it does not go on, and its rollback leaves alone what the operation that took over made.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import type { AgentWorkloadState, ContainerRuntime, NetworkInfo } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import { ProvisionClientService, STALE_OPERATION_MS } from '../../../orchestrator/src/services/provision-client.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

type Hook = 'createAgent' | 'register';

/** Vault, the engine and the targets as the whole saga uses them, recording each call; `during` runs inside `at`. */
function standIns(calls: string[], at: Hook | null, during: () => Promise<void>) {
  const hook = async (name: Hook) => {
    calls.push(name);
    if (name === at) await during();
  };
  const running: AgentWorkloadState = {
    clientId: parseClientId('placeholder'),
    exists: true,
    running: true,
    status: 'running',
    exitCode: null,
    startedAt: new Date().toISOString(),
    endpoints: { control: '127.0.0.1:18080', metrics: '127.0.0.1:19464' },
  };
  const store = {
    ensureClient: async () => void calls.push('ensureClient'),
    issueControlToken: async () => randomUUID(),
    removeClient: async () => void calls.push('removeClient'),
    revokeAgentTokens: async () => {
      calls.push('revokeAgentTokens');
      return { revoked: 0 };
    },
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    ensureVolume: async () => ({ created: true }),
    removeVolume: async () => void calls.push('removeVolume'),
    listSubnetsInUse: async () => [],
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => ({
      name: `net-${clientId}`,
      subnet,
      gateway: subnet.replace(/0\/\d+$/, '1'),
      created: true,
    }),
    removeNetwork: async () => void calls.push('removeNetwork'),
    createAgent: () => hook('createAgent'),
    startAgent: async () => void calls.push('startAgent'),
    inspectAgent: async (clientId: ClientId) => ({ ...running, clientId }),
    stopAgent: async () => void calls.push('stopAgent'),
    removeAgent: async () => void calls.push('removeAgent'),
    preflightWarnings: async () => [],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const targets = {
    register: () => hook('register'),
    unregister: async () => void calls.push('unregister'),
  } as Partial<ScrapeTargets> as ScrapeTargets;
  const health: AgentHealthProbe = { isHealthy: async () => true };
  return { store, runtime, targets, health };
}

const UNDOING = ['removeClient', 'removeVolume', 'removeNetwork', 'stopAgent', 'removeAgent', 'revokeAgentTokens', 'unregister'];

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a provisioning that lost its claim while it ran (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let homeDir: string;
    before(async () => {
      opened = await backend.open();
      homeDir = await mkdtemp(path.join(os.tmpdir(), 'provision-takeover-'));
    });
    beforeEach(() => opened.reset());
    after(async () => {
      await opened.close();
      await rm(homeDir, { recursive: true, force: true });
    });

    const serviceOver = (stands: ReturnType<typeof standIns>, registry: Registry = opened.registry) =>
      new ProvisionClientService({
        config: loadConfig({ AGENT_FLEET_HOME: homeDir }),
        registry,
        runtime: stands.runtime,
        targets: stands.targets,
        health: stands.health,
        clock: systemClock,
        logger: createSilentLogger(),
        secrets: {
          store: stands.store,
          vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`,
          prepareIntroduction: async () => async () => undefined,
        },
      });

    /** Another provisioning claims the client, as one started after the take-over age would. */
    const takenOverBy = (clientId: ClientId, otherOperation: string) => async () => {
      const later = new Date(Date.now() + 2 * STALE_OPERATION_MS);
      const claim = await opened.registry.claimForProvisioning(
        { id: clientId, provider: 'gmail', admins: [], configYaml: `client: ${clientId}\n`, onboardingStartedAt: later.toISOString() },
        otherOperation,
        later,
        STALE_OPERATION_MS,
      );
      assert.equal(claim.outcome, 'claimed');
    };

    const lostClaim = (error: unknown) => error instanceof SagaFailedError && error.code === 'conflict';

    test('taken over just before its last step, it is not marked active: the client stays the other operation’s', async () => {
      const clientId = parseClientId('ptlate');
      const otherOperation = randomUUID();
      const takeOver = takenOverBy(clientId, otherOperation);
      // The take-over lands between the last step's start and its registry write.
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'transition') {
            return async (...args: Parameters<Registry['transition']>) => {
              if (args[2] === 'active') await takeOver();
              return target.transition(...args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const calls: string[] = [];
      await assert.rejects(serviceOver(standIns(calls, null, async () => undefined), registry).provision({ clientId, actor: 'test' }), lostClaim);
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning', 'not active: the other operation has not finished');
      assert.equal(row?.operationId, otherOperation);
      assert.deepEqual(calls.filter((call) => UNDOING.includes(call)), [], 'nothing the other operation made under the same names is undone');
    });

    test('taken over while a step ran, it goes no further and undoes nothing of the other operation’s', async () => {
      const clientId = parseClientId('ptmid');
      const otherOperation = randomUUID();
      const calls: string[] = [];
      await assert.rejects(serviceOver(standIns(calls, 'createAgent', takenOverBy(clientId, otherOperation))).provision({ clientId, actor: 'test' }), lostClaim);
      assert.ok(!calls.includes('startAgent'), `the taken-over operation started no agent (${calls.join(', ')})`);
      assert.deepEqual(calls.filter((call) => UNDOING.includes(call)), []);
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });

    test('killed while a step ran, it starts no agent and rolls back what it made; the client stays killed', async () => {
      const clientId = parseClientId('ptkill');
      const calls: string[] = [];
      const kill = async () => {
        assert.ok(await opened.registry.transition(clientId, ['provisioning'], 'killed', 'kill switch (test)', new Date()));
      };
      await assert.rejects(serviceOver(standIns(calls, 'createAgent', kill)).provision({ clientId, actor: 'test' }), lostClaim);
      assert.ok(!calls.includes('startAgent'), `no agent started after the kill (${calls.join(', ')})`);
      assert.ok(calls.includes('removeAgent') && calls.includes('removeNetwork'), `its own container and network are rolled back (${calls.join(', ')})`);
      assert.equal((await opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a registry that fails at the last step and stays down does not stop the rollback of what was made', async () => {
      const clientId = parseClientId('ptdown');
      let down = false;
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'transition') {
            return async (...args: Parameters<Registry['transition']>) => {
              if (args[2] === 'active') down = true;
              if (down) throw new Error('registry unreachable (injected)');
              return target.transition(...args);
            };
          }
          if (name === 'getClient') {
            return async (id: ClientId) => {
              if (down) throw new Error('registry unreachable (injected)');
              return target.getClient(id);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const calls: string[] = [];
      await assert.rejects(serviceOver(standIns(calls, null, async () => undefined), registry).provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'active');
      for (const undone of ['unregister', 'revokeAgentTokens', 'stopAgent', 'removeAgent', 'removeNetwork', 'removeVolume', 'removeClient']) {
        assert.ok(calls.includes(undone), `${undone} ran (${calls.join(', ')})`);
      }
    });

    test('a provisioning that keeps its claim still becomes active', async () => {
      const clientId = parseClientId('ptkept');
      const calls: string[] = [];
      const result = await serviceOver(standIns(calls, null, async () => undefined)).provision({ clientId, actor: 'test' });
      assert.equal(result.outcome, 'provisioned');
      assert.equal((await opened.registry.getClient(clientId))?.status, 'active');
      assert.deepEqual(calls.filter((call) => UNDOING.includes(call)), []);
    });

    test('a failed provisioning whose claim was taken over does not fail or delete the other operation’s row', async () => {
      const clientId = parseClientId('ptrelease');
      const otherOperation = randomUUID();
      const takeOver = takenOverBy(clientId, otherOperation);
      // The take-over lands between the failed saga and the release of its claim.
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'transition') {
            return async (...args: Parameters<Registry['transition']>) => {
              if (args[2] === 'failed') await takeOver();
              return target.transition(...args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const failing = standIns([], 'createAgent', async () => {
        throw new FleetError('unavailable', 'engine failed (injected)');
      });
      await assert.rejects(serviceOver(failing, registry).provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container');
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });
  });
}
