// A failed provisioning of a new client gives its claim back in two writes: the row is marked failed, then
// deleted. A failed row is claimable at once, so another provisioning may claim it in between: its row must
// survive the first one's delete. Against a real registry (PGlite) and stand-ins for Vault and the engine.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime, NetworkInfo } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { ProvisionClientService, STALE_OPERATION_MS } from '../../../orchestrator/src/services/provision-client.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

/** Vault and the engine up to the container step, which fails. */
function failingAtContainer() {
  const store = {
    ensureClient: async () => undefined,
    issueControlToken: async () => randomUUID(),
    removeClient: async () => undefined,
    revokeAgentTokens: async () => ({ revoked: 0 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    ensureVolume: async () => ({ created: true }),
    removeVolume: async () => undefined,
    listSubnetsInUse: async () => [],
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => ({ name: `net-${clientId}`, subnet, gateway: subnet.replace(/0\/\d+$/, '1'), created: true }),
    removeNetwork: async () => undefined,
    createAgent: async () => {
      throw new FleetError('unavailable', 'container creation failed (injected)');
    },
    stopAgent: async () => undefined,
    removeAgent: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
  return { store, runtime };
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a failed provisioning's release against a claim that lands in between (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let homeDir: string;
    before(async () => {
      opened = await backend.open();
      homeDir = await mkdtemp(path.join(os.tmpdir(), 'provision-release-'));
    });
    after(async () => {
      await opened.close();
      await rm(homeDir, { recursive: true, force: true });
    });

    test('a claim made on the failed row before its delete keeps the row', async () => {
      const clientId = parseClientId('prrace');
      const otherOperation = randomUUID();
      // Another provisioning claims the row the moment it is failed, before the first one deletes it.
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'deleteClient') {
            return async (...args: Parameters<Registry['deleteClient']>) => {
              const now = new Date();
              const claim = await target.claimForProvisioning({ id: clientId, provider: 'gmail', admins: [], configYaml: `client: ${clientId}\n`, onboardingStartedAt: now.toISOString() }, otherOperation, now, STALE_OPERATION_MS);
              assert.equal(claim.outcome, 'claimed');
              return target.deleteClient(...args);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const { store, runtime } = failingAtContainer();
      const service = new ProvisionClientService({
        config: loadConfig({ AGENT_FLEET_HOME: homeDir }),
        registry,
        runtime,
        targets: { register: async () => undefined, unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
        health: { isHealthy: async () => true } as AgentHealthProbe,
        clock: systemClock,
        logger: createSilentLogger(),
        secrets: { store, vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`, prepareIntroduction: async () => async () => undefined },
      });
      await assert.rejects(service.provision({ clientId, actor: 'ops' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container');
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning', 'the other provisioning’s row is kept');
      assert.equal(row?.operationId, otherOperation);
    });
  });
}
