// How a failed provisioning gives its registry claim back, against a real registry and stand-ins for Vault and
// the engine: only a claim it still holds (a kill or a takeover during the run is kept), the saga's own error
// reaches the caller even when the release fails, and a long step keeps the operation's heartbeat fresh.
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
import type { ContainerRuntime, NetworkInfo } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import { ProvisionClientService, STALE_OPERATION_MS } from '../../../orchestrator/src/services/provision-client.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

/** Vault and the engine up to the container step, which runs `duringCreate` and then fails. */
function standIns(duringCreate: () => Promise<void>) {
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
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => ({
      name: `net-${clientId}`,
      subnet,
      gateway: subnet.replace(/0\/\d+$/, '1'),
      created: true,
    }),
    removeNetwork: async () => undefined,
    createAgent: async () => {
      await duringCreate();
      throw new FleetError('unavailable', 'container creation failed (injected)');
    },
    stopAgent: async () => undefined,
    removeAgent: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
  return { store, runtime };
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a failed provisioning releases only the claim it still holds (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let homeDir: string;
    before(async () => {
      opened = await backend.open();
      homeDir = await mkdtemp(path.join(os.tmpdir(), 'provision-claim-'));
    });
    beforeEach(() => opened.reset());
    after(async () => {
      await opened.close();
      await rm(homeDir, { recursive: true, force: true });
    });

    const serviceOver = (stands: ReturnType<typeof standIns>, registry: Registry = opened.registry, heartbeatIntervalMs?: number) =>
      new ProvisionClientService({
        config: loadConfig({ AGENT_FLEET_HOME: homeDir }),
        registry,
        runtime: stands.runtime,
        targets: {} as ScrapeTargets,
        health: {} as AgentHealthProbe,
        clock: systemClock,
        logger: createSilentLogger(),
        secrets: {
          store: stands.store,
          vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`,
          prepareIntroduction: async () => assert.fail('no introduction after a failed container step'),
        },
        ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
      });

    const failsAtContainer = (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container';
    const killDuringProvisioning = (clientId: ClientId) => async () => {
      assert.ok(await opened.registry.transition(clientId, ['provisioning'], 'killed', 'kill switch (test)', new Date()));
    };

    test('a new client killed while it is provisioned stays killed: the rollback does not delete its row', async () => {
      const clientId = parseClientId('pckillnew');
      await assert.rejects(serviceOver(standIns(killDuringProvisioning(clientId))).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.equal((await opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a client provisioned again and killed meanwhile stays killed, not failed (so only revive brings it back)', async () => {
      const clientId = parseClientId('pckillold');
      await assert.rejects(
        serviceOver(standIns(async () => undefined)).provision({ clientId, actor: 'test' }),
        failsAtContainer,
      );
      // A client that failed before keeps a row: claim it once more by hand, then fail it, as a failed provisioning leaves it.
      const claim = await opened.registry.claimForProvisioning(
        { id: clientId, provider: 'gmail', admins: [], configYaml: `client: ${clientId}\n`, onboardingStartedAt: new Date().toISOString() },
        randomUUID(),
        new Date(),
        STALE_OPERATION_MS,
      );
      assert.equal(claim.outcome, 'claimed');
      await opened.registry.setStatus(clientId, 'failed', 'earlier failure', new Date());

      await assert.rejects(serviceOver(standIns(killDuringProvisioning(clientId))).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.equal((await opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a client taken over by another operation during the run keeps the other operation’s claim', async () => {
      const clientId = parseClientId('pctakeover');
      const otherOperation = randomUUID();
      const takeOver = async () => {
        const later = new Date(Date.now() + 2 * STALE_OPERATION_MS);
        const claim = await opened.registry.claimForProvisioning(
          { id: clientId, provider: 'gmail', admins: [], configYaml: `client: ${clientId}\n`, onboardingStartedAt: later.toISOString() },
          otherOperation,
          later,
          STALE_OPERATION_MS,
        );
        assert.equal(claim.outcome, 'claimed');
      };
      await assert.rejects(serviceOver(standIns(takeOver)).provision({ clientId, actor: 'test' }), failsAtContainer);
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });

    test('a claim that cannot be released does not hide the failure: the caller gets the saga’s error, the ops log has it', async () => {
      const clientId = parseClientId('pcrelease');
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          if (name === 'deleteClient') return async () => Promise.reject(new Error('registry unreachable (injected)'));
          const value: unknown = Reflect.get(target, name, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      await assert.rejects(serviceOver(standIns(async () => undefined), registry).provision({ clientId, actor: 'test' }), failsAtContainer);
      const logged = await opened.registry.listOpsLog({ clientId, actions: ['provision'] });
      assert.equal(logged.at(-1)?.outcome, 'failed');
      assert.match(String(logged.at(-1)?.details['claimNotReleased']), /registry unreachable/);
    });

    test('a step that outlasts the heartbeat interval keeps the operation’s heartbeat fresh', async () => {
      const clientId = parseClientId('pcheartbeat');
      const beats: string[] = [];
      const registry = new Proxy(opened.registry, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver);
          if (name === 'recordProgress') {
            return (id: ClientId, operationId: string, step: string, at: Date) => {
              beats.push(step);
              return target.recordProgress(id, operationId, step, at);
            };
          }
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const slowCreate = () => new Promise<void>((resolve) => setTimeout(resolve, 120));
      await assert.rejects(serviceOver(standIns(slowCreate), registry, 10).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.ok(beats.filter((step) => step === 'container').length >= 4, `the container step refreshed the heartbeat (${beats.join(', ')})`);
    });
  });
}
