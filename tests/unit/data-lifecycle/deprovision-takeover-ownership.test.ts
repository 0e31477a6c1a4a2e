// A deprovision that takes over an abandoned provisioning makes the client its own (a new operation id): the
// provisioning, should it come back to life, stops and leaves alone what is now the deprovision's (its
// rollback would remove the volume a deprovision without purge keeps). The take-over is atomic with the
// take-over age: a provisioning that beat since the deprovision read the client is not taken over.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/operation-heartbeat.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, provisionServiceOver, recordingStandIns, registryWith } from '../../helpers/client-operation-bed.ts';
import { idleContainerRuntime, leaveProvisioning } from '../../helpers/erasure-stand-ins.ts';

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

for (const backend of inProcessBackends) {
  describe(`a deprovision that takes over a provisioning (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'deprovision-takeover');

    test('the provisioning it took over does not roll back the volume a deprovision without purge keeps', async () => {
      const clientId = parseClientId('dtvolume');
      const calls: string[] = [];
      // The provisioning stalls in createAgent past the take-over age; meanwhile the client is deprovisioned.
      const stalled = recordingStandIns(calls, {
        createAgent: async () => {
          const later = () => new Date(Date.now() + 2 * STALE_OPERATION_MS);
          await deprovisionService(bed.opened.registry, later).deprovision({ clientId, purge: false, actor: 'ops' });
        },
      });
      const provisioning = provisionServiceOver(stalled, { registry: bed.opened.registry, homeDir: bed.homeDir });
      await assert.rejects(provisioning.provision({ clientId, actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
      assert.ok(!calls.includes('startAgent'), `the provisioning went no further (${calls.join(', ')})`);
      assert.ok(!calls.includes('removeVolume'), `the volume is kept (${calls.join(', ')})`);
      assert.ok(!calls.includes('removeClient'), `so are the client's secrets (${calls.join(', ')})`);
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'deprovisioned');
    });

    test('a provisioning that beat after the deprovision read it is not taken over: busy, the client stays the provisioning’s', async () => {
      const clientId = parseClientId('dtbeat');
      const claimedAt = new Date('2026-12-10T12:00:00.000Z');
      await leaveProvisioning(bed.opened.registry, clientId, 'jane@acme.example', claimedAt, STALE_OPERATION_MS);
      // The provisioning shows progress between the deprovision's read of the client and its take-over.
      const progress = () => bed.opened.registry.recordProgress(clientId, 'op-1', 'health', new Date(claimedAt.getTime() + 1000));
      const registry = registryWith(bed.opened.registry, {
        claim: async (...args: Parameters<Registry['claim']>) => {
          await progress();
          return bed.opened.registry.claim(...args);
        },
        setStatus: async (...args: Parameters<Registry['setStatus']>) => {
          await progress();
          return bed.opened.registry.setStatus(...args);
        },
      });
      const at = new Date(claimedAt.getTime() + STALE_OPERATION_MS);
      await assert.rejects(deprovisionService(registry, () => at).deprovision({ clientId, purge: true, actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'busy');
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, 'op-1');
    });
  });
}
