// A client whose provisioning was cut off (its orchestrator died mid-saga) stays 'provisioning' for good.
// Closing it must not be refused forever: past provisioning's own take-over age it is taken over and its
// possibly running agent, network and scrape target removed; a provisioning still alive is waited for.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/operation-heartbeat.ts';
import { idleContainerRuntime, leaveProvisioning } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const ACME = parseClientId('acme');
const CLAIMED_AT = new Date('2026-12-10T12:00:00.000Z');

function service(opened: OpenedRegistry, now: Date, removed: string[]) {
  const runtime = {
    ...idleContainerRuntime(),
    stopAgent: async () => void removed.push('agent stopped'),
    removeNetwork: async () => void removed.push('network'),
  } as Partial<ContainerRuntime> as ContainerRuntime;
  return new DeprovisionClientService({
    registry: opened.registry,
    runtime,
    targets: { unregister: async () => void removed.push('scrape target') } as Partial<ScrapeTargets> as ScrapeTargets,
    guard: new ClientOperationGuard(),
    clock: { now: () => now },
    logger: createSilentLogger(),
  });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`deprovisioning a client left provisioning (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async (registry) => {
      await leaveProvisioning(registry, ACME, 'jane@acme.example', CLAIMED_AT, STALE_OPERATION_MS);
      await registry.setSubnet(ACME, '10.77.0.0/28');
    });

    test('a provisioning abandoned past the take-over age is taken over and cleaned up', async () => {
      const removed: string[] = [];
      await service(opened, new Date(CLAIMED_AT.getTime() + STALE_OPERATION_MS), removed).deprovision({ clientId: ACME, purge: false, actor: 'ops' });
      assert.deepEqual(removed, ['scrape target', 'agent stopped', 'network']);
      const client = await opened.registry.getClient(ACME);
      assert.equal(client?.status, 'deprovisioned');
      assert.equal(client?.subnet, null);
    });

    test('a provisioning whose heartbeat is fresh is waited for: busy, retryable, nothing removed', async () => {
      const removed: string[] = [];
      await assert.rejects(
        service(opened, new Date(CLAIMED_AT.getTime() + STALE_OPERATION_MS - 1000), removed).deprovision({ clientId: ACME, purge: true, actor: 'ops' }),
        (error) => error instanceof FleetError && error.code === 'busy' && error.retryable,
      );
      assert.deepEqual(removed, []);
      assert.equal((await opened.registry.getClient(ACME))?.status, 'provisioning');
    });
  });
}
