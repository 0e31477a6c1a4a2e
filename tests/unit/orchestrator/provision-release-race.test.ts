// A failed provisioning of a new client gives its claim back in two writes: the row is marked failed, then
// deleted. A failed row is claimable at once, so another provisioning may claim it in between: its row must
// survive the first one's delete. Against a real registry (PGlite) and stand-ins for Vault and the engine.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { claimedBy, emptyRegistryBed, failingAtContainer, provisionServiceOver, registryWith } from '../../helpers/client-operation-bed.ts';

for (const backend of inProcessBackends) {
  describe(`a failed provisioning's release against a claim that lands in between (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'provision-release');

    test('a claim made on the failed row before its delete keeps the row', async () => {
      const clientId = parseClientId('prrace');
      const otherOperation = randomUUID();
      const { opened } = bed;
      // Another provisioning claims the row the moment it is failed, before the first one deletes it.
      const registry = registryWith(opened.registry, {
        deleteClient: async (...args: Parameters<Registry['deleteClient']>) => {
          await claimedBy(opened.registry, clientId, otherOperation, new Date());
          return opened.registry.deleteClient(...args);
        },
      });
      const service = provisionServiceOver(failingAtContainer(), { registry, homeDir: bed.homeDir });
      await assert.rejects(service.provision({ clientId, actor: 'ops' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container');
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning', 'the other provisioning’s row is kept');
      assert.equal(row?.operationId, otherOperation);
    });
  });
}
