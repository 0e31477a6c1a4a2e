// A deprovision that takes over an abandoned provisioning makes the client its own (a new operation id): the
// provisioning, should it come back to life, stops and leaves alone what is now the deprovision's (its
// rollback would remove the volume a deprovision without purge keeps). The take-over is atomic with the
// take-over age: a provisioning that beat since the deprovision read the client is not taken over.
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
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { AgentWorkloadState, ContainerRuntime, NetworkInfo } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { ProvisionClientService, STALE_OPERATION_MS } from '../../../orchestrator/src/services/provision-client.ts';
import { idleContainerRuntime, leaveProvisioning } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

/** The engine, Vault and the targets as a provisioning uses them, recording each call; `duringCreate` runs inside createAgent. */
function provisionStandIns(calls: string[], duringCreate: () => Promise<void>) {
  const record = (name: string) => async () => void calls.push(name);
  const running = (clientId: ClientId): AgentWorkloadState => ({
    clientId,
    exists: true,
    running: true,
    status: 'running',
    exitCode: null,
    startedAt: new Date().toISOString(),
    endpoints: { control: '127.0.0.1:18080', metrics: '127.0.0.1:19464' },
  });
  const store = {
    ensureClient: record('ensureClient'),
    issueControlToken: async () => randomUUID(),
    removeClient: record('removeClient'),
    revokeAgentTokens: async () => ({ revoked: 0 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    ensureVolume: async () => ({ created: true }),
    removeVolume: record('removeVolume'),
    listSubnetsInUse: async () => [],
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => ({ name: `net-${clientId}`, subnet, gateway: subnet.replace(/0\/\d+$/, '1'), created: true }),
    removeNetwork: record('removeNetwork'),
    createAgent: async () => {
      calls.push('createAgent');
      await duringCreate();
    },
    startAgent: record('startAgent'),
    inspectAgent: async (clientId: ClientId) => running(clientId),
    stopAgent: record('stopAgent'),
    removeAgent: record('removeAgent'),
    preflightWarnings: async () => [],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const targets = { register: record('register'), unregister: record('unregister') } as Partial<ScrapeTargets> as ScrapeTargets;
  const health: AgentHealthProbe = { isHealthy: async () => true };
  return { store, runtime, targets, health };
}

function deprovisionService(registry: Registry, now: () => Date): DeprovisionClientService {
  return new DeprovisionClientService({
    registry,
    runtime: idleContainerRuntime(),
    targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
    guard: new ClientOperationGuard(),
    clock: { now },
    logger: createSilentLogger(),
  });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a deprovision that takes over a provisioning (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let homeDir: string;
    before(async () => {
      opened = await backend.open();
      homeDir = await mkdtemp(path.join(os.tmpdir(), 'deprovision-takeover-'));
    });
    beforeEach(() => opened.reset());
    after(async () => {
      await opened.close();
      await rm(homeDir, { recursive: true, force: true });
    });

    test('the provisioning it took over does not roll back the volume a deprovision without purge keeps', async () => {
      const clientId = parseClientId('dtvolume');
      const calls: string[] = [];
      // The provisioning stalls in createAgent past the take-over age; meanwhile the client is deprovisioned.
      const stalled = provisionStandIns(calls, async () => {
        const later = () => new Date(Date.now() + 2 * STALE_OPERATION_MS);
        await deprovisionService(opened.registry, later).deprovision({ clientId, purge: false, actor: 'ops' });
      });
      const provisioning = new ProvisionClientService({
        config: loadConfig({ AGENT_FLEET_HOME: homeDir }),
        registry: opened.registry,
        runtime: stalled.runtime,
        targets: stalled.targets,
        health: stalled.health,
        clock: systemClock,
        logger: createSilentLogger(),
        secrets: { store: stalled.store, vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`, prepareIntroduction: async () => async () => undefined },
      });
      await assert.rejects(provisioning.provision({ clientId, actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
      assert.ok(!calls.includes('startAgent'), `the provisioning went no further (${calls.join(', ')})`);
      assert.ok(!calls.includes('removeVolume'), `the volume is kept (${calls.join(', ')})`);
      assert.ok(!calls.includes('removeClient'), `so are the client's secrets (${calls.join(', ')})`);
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'deprovisioned');
    });

    test('a provisioning that beat after the deprovision read it is not taken over: busy, the client stays the provisioning’s', async () => {
      const clientId = parseClientId('dtbeat');
      const claimedAt = new Date('2026-12-10T12:00:00.000Z');
      await leaveProvisioning(opened.registry, clientId, 'jane@acme.example', claimedAt, STALE_OPERATION_MS);
      // The provisioning shows progress between the deprovision's read of the client and its take-over.
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'claim' || name === 'setStatus') {
            return async (...args: unknown[]) => {
              await target.recordProgress(clientId, 'op-1', 'health', new Date(claimedAt.getTime() + 1000));
              return (value as (...given: unknown[]) => Promise<unknown>).apply(target, args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const at = new Date(claimedAt.getTime() + STALE_OPERATION_MS);
      await assert.rejects(deprovisionService(registry, () => at).deprovision({ clientId, purge: true, actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'busy');
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, 'op-1');
    });
  });
}
