// A closure (deprovision, purge, erasure) owns the client while it runs, under its own operation id and
// heartbeat, and gives it back when it fails: another orchestrator neither runs a second closure nor provisions
// the client meanwhile, what a provisioning made under the same id is never deleted by a closure that did not
// claim it, and a failed closure does not leave the client busy for the next operator action.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import type { ContainerRuntime } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { DeprovisionClientService } from '../../../orchestrator/src/services/deprovision-client.ts';
import { EraseClientService } from '../../../orchestrator/src/services/erasure/erase-client.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/operation-heartbeat.ts';
import { newClient, registryWith } from '../../helpers/client-operation-bed.ts';
import { containerOnlyKill, erasureStandIns, idleContainerRuntime, registerActiveClient } from '../../helpers/erasure-stand-ins.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';

const isCode = (code: string) => (error: unknown) => error instanceof FleetError && error.code === code;

/** A deprovision on its own orchestrator (its own guard) over `runtime`. */
function deprovisionService(registry: Registry, runtime: ContainerRuntime = idleContainerRuntime()): DeprovisionClientService {
  return new DeprovisionClientService({
    registry,
    runtime,
    targets: { unregister: async () => undefined } as Partial<ScrapeTargets> as ScrapeTargets,
    guard: new ClientOperationGuard(),
    clock: systemClock,
    logger: createSilentLogger(),
  });
}

/** The runtime of a deprovision that runs `during` while it removes the agent's network. */
function runtimeRunning(during: () => Promise<void>): ContainerRuntime {
  const runtime = idleContainerRuntime();
  return { ...runtime, removeNetwork: during } as ContainerRuntime;
}

/** An erasure over `registry` whose backup store is unreachable until `heal` is called. */
function erasureFailingBackups(registry: Registry, clientId: ClientId): { erasure: EraseClientService; heal: () => void } {
  let failing = true;
  const erasure = new EraseClientService({
    ...erasureStandIns(registry, clientId),
    backups: {
      deleteAll: async () => {
        if (failing) throw new FleetError('unavailable', 'backup store unreachable (injected)');
        return 0;
      },
    },
    kill: containerOnlyKill(clientId),
    clock: systemClock,
  });
  return {
    erasure,
    heal: () => {
      failing = false;
    },
  };
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`closures own the client while they run (${backend.name} registry)`, () => {
    const opened = registryPerTest(backend, async () => undefined);

    test('a deprovision that fails part way leaves the client claimable at once, not busy until the take-over age', async () => {
      const clientId = parseClientId('lcfail');
      await registerActiveClient(opened.registry, clientId, 'jane@lcfail.example');
      const failing = runtimeRunning(async () => {
        throw new FleetError('unavailable', 'engine unreachable (injected)');
      });
      await assert.rejects(deprovisionService(opened.registry, failing).deprovision({ clientId, purge: false, actor: 'ops' }), isCode('unavailable'));
      assert.equal((await opened.registry.getClient(clientId))?.status, 'deprovisioning', 'a closure that stopped half way stays one');
      const claim = await opened.registry.claimForProvisioning(newClient(clientId, new Date()), 'op-next', new Date(), STALE_OPERATION_MS);
      assert.equal(claim.outcome, 'claimed');
    });

    test('a second deprovision (another orchestrator) while one runs is busy, not a second closure of the client', async () => {
      const clientId = parseClientId('lctwo');
      await registerActiveClient(opened.registry, clientId, 'jane@lctwo.example');
      let second: unknown;
      const runtime = runtimeRunning(async () => {
        second = await deprovisionService(opened.registry).deprovision({ clientId, purge: true, actor: 'ops' }).then(
          () => 'purged',
          (error: unknown) => error,
        );
      });
      await deprovisionService(opened.registry, runtime).deprovision({ clientId, purge: false, actor: 'ops' });
      assert.ok(isCode('busy')(second), `the second deprovision is refused (${String(second)})`);
      assert.equal((await opened.registry.getClient(clientId))?.status, 'deprovisioned', 'the first one finished');
    });

    test('a purge of a client without a row keeps the row a provisioning made meanwhile', async () => {
      const clientId = parseClientId('lcrowless');
      const runtime = runtimeRunning(async () => {
        const claim = await opened.registry.claimForProvisioning(newClient(clientId, new Date()), 'op-elsewhere', new Date(), STALE_OPERATION_MS);
        assert.equal(claim.outcome, 'claimed');
      });
      await assert.rejects(deprovisionService(opened.registry, runtime).deprovision({ clientId, purge: true, actor: 'ops' }), isCode('conflict'));
      const row = await opened.registry.getClient(clientId);
      assert.equal(row?.operationId, 'op-elsewhere', 'the provisioning keeps its row');
    });

    test('a deprovision taken over before it clears the subnet leaves the subnet of the operation that took it', async () => {
      const clientId = parseClientId('lcsubnet');
      await registerActiveClient(opened.registry, clientId, 'jane@lcsubnet.example');
      await opened.registry.setSubnet(clientId, '10.77.0.0/28');
      const registry = registryWith(opened.registry, {
        setSubnet: async (...args: Parameters<Registry['setSubnet']>) => {
          // Another orchestrator takes the client over (as it would once this one's heartbeat went stale).
          const later = new Date(Date.now() + 2 * STALE_OPERATION_MS);
          assert.ok(await opened.registry.claim(clientId, 'op-other', { from: ['deprovisioning'], to: 'provisioning', reason: null }, later, STALE_OPERATION_MS));
          return opened.registry.setSubnet(...args);
        },
      });
      await assert.rejects(deprovisionService(registry).deprovision({ clientId, purge: false, actor: 'ops' }), isCode('conflict'));
      assert.equal((await opened.registry.getClient(clientId))?.subnet, '10.77.0.0/28');
    });

    test('an erasure owns the client while it runs: a provisioning elsewhere is busy and its row is not the erasure’s to delete', async () => {
      const clientId = parseClientId('lcerase');
      await registerActiveClient(opened.registry, clientId, 'jane@lcerase.example');
      await opened.registry.setStatus(clientId, 'deprovisioned', null, new Date());
      let claim: string | undefined;
      const erasure = new EraseClientService({
        ...erasureStandIns(opened.registry, clientId),
        backups: {
          deleteAll: async () => {
            claim = (await opened.registry.claimForProvisioning(newClient(clientId, new Date()), 'op-elsewhere', new Date(), STALE_OPERATION_MS)).outcome;
            return 0;
          },
        },
        kill: containerOnlyKill(clientId),
        clock: systemClock,
      });
      const outcome = await erasure.erase({ clientId, requestId: 'DSR-LC1', actor: 'ops' });
      assert.equal(claim, 'busy');
      assert.equal(outcome.outcome, 'erased');
      assert.equal(await opened.registry.getClient(clientId), null);
    });

    test('an erasure that fails part way gives the client back killed, and the next run claims it at once', async () => {
      const clientId = parseClientId('lcerfail');
      await registerActiveClient(opened.registry, clientId, 'jane@lcerfail.example');
      const { erasure, heal } = erasureFailingBackups(opened.registry, clientId);
      await assert.rejects(erasure.erase({ clientId, requestId: 'DSR-LC2', actor: 'ops' }), isCode('unavailable'));
      assert.equal((await opened.registry.getClient(clientId))?.status, 'killed', 'its agent was killed: a provisioning is refused, only a revive or the erasure goes on');
      heal();
      assert.equal((await erasure.erase({ clientId, requestId: 'DSR-LC2', actor: 'ops' })).outcome, 'erased');
    });

    test('an erasure of a closure that stopped half way, failing in turn, leaves it to the next run at once', async () => {
      const clientId = parseClientId('lcerhalf');
      await registerActiveClient(opened.registry, clientId, 'jane@lcerhalf.example');
      const longAgo = new Date(Date.now() - 2 * STALE_OPERATION_MS);
      assert.ok(await opened.registry.claim(clientId, 'op-closure', { from: ['active'], to: 'deprovisioning', reason: null }, longAgo, STALE_OPERATION_MS));
      const { erasure, heal } = erasureFailingBackups(opened.registry, clientId);
      await assert.rejects(erasure.erase({ clientId, requestId: 'DSR-LC3', actor: 'ops' }), isCode('unavailable'));
      assert.equal((await opened.registry.getClient(clientId))?.status, 'deprovisioning', 'a closed client stays closed');
      heal();
      assert.equal((await erasure.erase({ clientId, requestId: 'DSR-LC3', actor: 'ops' })).outcome, 'erased');
    });
  });
}
