// The provisioning saga's first steps (secrets, volume and network, run at once) against a real registry and
// recording stand-ins for Vault and the container engine: whichever of the three fails, the other two are
// undone as well, nothing later runs, and the new client's registry row is gone.
import assert from 'node:assert/strict';
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
import type { ContainerRuntime, NetworkInfo } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { SecretStore } from '../../../orchestrator/src/ports/secret-store.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { ProvisionClientService } from '../../../orchestrator/src/services/provision-client.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';

type Member = 'secrets' | 'volume' | 'network';

/** Vault and the engine as far as the first steps use them, recording each call; `failing` throws. */
function standIns(failing: Member, calls: string[]) {
  const settle = async (member: Member, delayMs: number, what: string) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    calls.push(what);
    if (member === failing) throw new FleetError('unavailable', `${member} failed (injected)`);
  };
  const store = {
    ensureClient: (clientId: ClientId) => settle('secrets', 20, `ensureClient ${clientId}`),
    issueControlToken: async () => 'token',
    removeClient: async (clientId: ClientId) => void calls.push(`removeClient ${clientId}`),
    revokeAgentTokens: async () => ({ revoked: 0 }),
  } as Partial<SecretStore> as SecretStore;
  const runtime = {
    kind: 'docker',
    ensureVolume: async (clientId: ClientId) => {
      await settle('volume', 5, `ensureVolume ${clientId}`);
      return { created: true };
    },
    removeVolume: async (clientId: ClientId) => void calls.push(`removeVolume ${clientId}`),
    listSubnetsInUse: async () => [],
    ensureNetwork: async (clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> => {
      await settle('network', 10, `ensureNetwork ${clientId}`);
      return { name: `net-${clientId}`, subnet, gateway: subnet.replace(/0\/\d+$/, '1'), created: true };
    },
    removeNetwork: async (clientId: ClientId) => void calls.push(`removeNetwork ${clientId}`),
    createAgent: async () => void calls.push('createAgent'),
    stopAgent: async () => undefined,
    removeAgent: async () => undefined,
  } as Partial<ContainerRuntime> as ContainerRuntime;
  return { store, runtime };
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`provisioning's parallel first steps roll back together (${backend.name} registry)`, () => {
    let opened: OpenedRegistry;
    let homeDir: string;
    before(async () => {
      opened = await backend.open();
      homeDir = await mkdtemp(path.join(os.tmpdir(), 'provision-steps-'));
    });
    after(async () => {
      await opened.close();
      await rm(homeDir, { recursive: true, force: true });
    });

    /** The service over the stand-ins, the real registry; no introduction is ever reached. */
    const serviceOver = ({ store, runtime }: ReturnType<typeof standIns>, guard?: ClientOperationGuard) =>
      new ProvisionClientService({
        config: loadConfig({ AGENT_FLEET_HOME: homeDir }),
        registry: opened.registry,
        runtime,
        targets: {} as ScrapeTargets,
        health: {} as AgentHealthProbe,
        clock: systemClock,
        logger: createSilentLogger(),
        secrets: {
          store,
          vaultAddressForNetwork: async (_clientId, network) => `https://${network.gateway}:8200`,
          prepareIntroduction: async () => assert.fail('no introduction after a failed first step'),
        },
        ...(guard === undefined ? {} : { guard }),
      });

    for (const failing of ['secrets', 'volume', 'network'] as const) {
      test(`a failure of "${failing}" undoes the other two, runs nothing later and leaves no registry row`, async () => {
        const calls: string[] = [];
        const service = serviceOver(standIns(failing, calls));
        const clientId = `ps${failing}`;
        const started: string[] = [];
        await assert.rejects(
          service.provision({ clientId, actor: 'test' }, (event) => {
            if (event.type === 'step-started') started.push(event.step);
          }),
          (error: unknown) =>
            error instanceof SagaFailedError &&
            error.failedStep === failing &&
            error.code === 'unavailable' &&
            error.compensationErrors.length === 0,
        );
        assert.deepEqual(started, ['secrets', 'volume', 'network'], 'the three ran, nothing after them');
        assert.ok(!calls.includes('createAgent'));
        // Every member ran to its end before the rollback, and the rollback undid all three.
        assert.deepEqual(calls.slice(0, 3).sort(), [`ensureClient ${clientId}`, `ensureNetwork ${clientId}`, `ensureVolume ${clientId}`]);
        // A volume whose creation failed is not known to be this run's: a rollback never removes client data.
        const undone = [`removeNetwork ${clientId}`, ...(failing === 'volume' ? [] : [`removeVolume ${clientId}`]), `removeClient ${clientId}`];
        assert.deepEqual(calls.slice(3), undone);
        assert.equal(await opened.registry.getClient(clientId as ClientId), null, 'the new client leaves no row');
        assert.deepEqual(await opened.registry.allocatedSubnets(), [], 'nor a subnet');
      });
    }

    test('while an operation holds the client (a closed client’s export has its network back) provisioning is refused before the claim', async () => {
      const calls: string[] = [];
      const guard = new ClientOperationGuard();
      const service = serviceOver(standIns('secrets', calls), guard);
      const clientId = parseClientId('psguarded');
      let release!: () => void;
      const held = guard.exclusive(clientId, 'data export', () => new Promise<void>((resolve) => (release = resolve)));
      await assert.rejects(service.provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof FleetError && error.code === 'busy' && /a data export is in progress/.test(error.message));
      assert.equal(await opened.registry.getClient(clientId), null, 'not claimed');
      assert.deepEqual(calls, [], 'nothing touched');
      release();
      await held;
      // Once the operation is over, the same request goes ahead (here to the injected secrets failure).
      await assert.rejects(service.provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'secrets');
    });
  });
}
