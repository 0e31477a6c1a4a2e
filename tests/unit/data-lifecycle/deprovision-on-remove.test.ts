// A deprovision ends what served only the removed agent (its Vault tokens, its egress listener) once the
// agent and its network are gone, whether or not the volume is purged: before, the tokens stayed live until
// the next rotation and the proxy kept the client's allow-list and logged under its id.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a deprovision ends what served the removed agent (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async () => undefined);

    for (const purge of [false, true]) {
      test(`${purge ? 'a purge' : 'a deprovision'} calls onRemove once, after the agent and its network are removed`, async () => {
        const clientId = parseClientId(purge ? 'orpurge' : 'orkeep');
        await registerActiveClient(opened.registry, clientId, `jane@${clientId}.example`);
        const steps: string[] = [];
        const idle = idleContainerRuntime();
        const runtime = {
          ...idle,
          removeAgent: async (id: string) => void steps.push(`remove agent ${id}`),
          removeNetwork: async (id: string) => void steps.push(`remove network ${id}`),
        } as ContainerRuntime;
        const service = new DeprovisionClientService({
          registry: opened.registry,
          runtime,
          targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
          guard: new ClientOperationGuard(),
          clock: systemClock,
          logger: createSilentLogger(),
          extension: { onRemove: async (id) => void steps.push(`on remove ${id}`), onPurge: async (id) => void steps.push(`on purge ${id}`) },
        });
        await service.deprovision({ clientId, purge, actor: 'ops' });
        assert.deepEqual(steps, [
          `remove agent ${clientId}`,
          `remove network ${clientId}`,
          `on remove ${clientId}`,
          ...(purge ? [`on purge ${clientId}`] : []),
        ]);
      });
    }
  });
}
