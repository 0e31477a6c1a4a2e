// A provisioning that loses its claim while it runs (taken over once it stalled past the take-over age, or killed)
// against a real registry and recording stand-ins for Vault, the engine and the scrape targets: it is never
// marked active, it does not go on, and its rollback leaves alone what the operation that took over made.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import {
  emptyRegistryBed,
  killDuringProvisioning,
  provisionServiceOver,
  recordingStandIns,
  registryWith,
  takenOverBy,
  type StandIns,
} from '../../helpers/client-operation-bed.ts';

const UNDOING = ['removeClient', 'removeVolume', 'removeNetwork', 'stopAgent', 'removeAgent', 'revokeAgentTokens', 'unregister'];

/**
 * The undoing calls from the container step on: before it, the container step itself revokes the tokens a
 * leftover agent may hold (forward work, not a rollback).
 */
const undoneCalls = (calls: readonly string[]): string[] => calls.slice(calls.indexOf('createAgent')).filter((call) => UNDOING.includes(call));

for (const backend of inProcessBackends) {
  describe(`a provisioning that lost its claim while it ran (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'provision-takeover');

    const serviceOver = (stands: StandIns, registry: Registry = bed.opened.registry) => provisionServiceOver(stands, { registry, homeDir: bed.homeDir });

    const lostClaim = (error: unknown) => error instanceof SagaFailedError && error.code === 'conflict';

    test('taken over just before its last step, it is not marked active: the client stays the other operation’s', async () => {
      const clientId = parseClientId('ptlate');
      const otherOperation = randomUUID();
      const takeOver = takenOverBy(bed.opened.registry, clientId, otherOperation);
      // The take-over lands between the last step's start and its registry write.
      const registry = registryWith(bed.opened.registry, {
        transition: async (...args: Parameters<Registry['transition']>) => {
          if (args[2] === 'active') await takeOver();
          return bed.opened.registry.transition(...args);
        },
      });
      const calls: string[] = [];
      await assert.rejects(serviceOver(recordingStandIns(calls), registry).provision({ clientId, actor: 'test' }), lostClaim);
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning', 'not active: the other operation has not finished');
      assert.equal(row?.operationId, otherOperation);
      assert.deepEqual(undoneCalls(calls), [], 'nothing the other operation made under the same names is undone');
    });

    test('taken over while a step ran, it goes no further and undoes nothing of the other operation’s', async () => {
      const clientId = parseClientId('ptmid');
      const otherOperation = randomUUID();
      const calls: string[] = [];
      await assert.rejects(serviceOver(recordingStandIns(calls, { createAgent: takenOverBy(bed.opened.registry, clientId, otherOperation) })).provision({ clientId, actor: 'test' }), lostClaim);
      assert.ok(!calls.includes('startAgent'), `the taken-over operation started no agent (${calls.join(', ')})`);
      assert.deepEqual(undoneCalls(calls), []);
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });

    test('killed while a step ran, it starts no agent and rolls back what it made; the client stays killed', async () => {
      const clientId = parseClientId('ptkill');
      const calls: string[] = [];
      await assert.rejects(serviceOver(recordingStandIns(calls, { createAgent: killDuringProvisioning(bed.opened.registry, clientId) })).provision({ clientId, actor: 'test' }), lostClaim);
      assert.ok(!calls.includes('startAgent'), `no agent started after the kill (${calls.join(', ')})`);
      assert.ok(calls.includes('removeAgent') && calls.includes('removeNetwork'), `its own container and network are rolled back (${calls.join(', ')})`);
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a registry that fails at the last step and stays down does not stop the rollback of what was made', async () => {
      const clientId = parseClientId('ptdown');
      let down = false;
      const registry = registryWith(bed.opened.registry, {
        transition: async (...args: Parameters<Registry['transition']>) => {
          if (args[2] === 'active') down = true;
          if (down) throw new Error('registry unreachable (injected)');
          return bed.opened.registry.transition(...args);
        },
        getClient: async (id: ClientId) => {
          if (down) throw new Error('registry unreachable (injected)');
          return bed.opened.registry.getClient(id);
        },
      });
      const calls: string[] = [];
      await assert.rejects(serviceOver(recordingStandIns(calls), registry).provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'active');
      for (const undone of ['unregister', 'revokeAgentTokens', 'stopAgent', 'removeAgent', 'removeNetwork', 'removeVolume', 'removeClient']) {
        assert.ok(undoneCalls(calls).includes(undone), `${undone} ran (${calls.join(', ')})`);
      }
    });

    test('a provisioning that keeps its claim still becomes active', async () => {
      const clientId = parseClientId('ptkept');
      const calls: string[] = [];
      const result = await serviceOver(recordingStandIns(calls)).provision({ clientId, actor: 'test' });
      assert.equal(result.outcome, 'provisioned');
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'active');
      assert.deepEqual(undoneCalls(calls), []);
    });

    test('a failed provisioning whose claim was taken over does not fail or delete the other operation’s row', async () => {
      const clientId = parseClientId('ptrelease');
      const otherOperation = randomUUID();
      const takeOver = takenOverBy(bed.opened.registry, clientId, otherOperation);
      // The take-over lands between the failed saga and the release of its claim.
      const registry = registryWith(bed.opened.registry, {
        transition: async (...args: Parameters<Registry['transition']>) => {
          if (args[2] === 'failed') await takeOver();
          return bed.opened.registry.transition(...args);
        },
      });
      const failing = recordingStandIns([], {
        createAgent: async () => {
          throw new FleetError('unavailable', 'engine failed (injected)');
        },
      });
      await assert.rejects(serviceOver(failing, registry).provision({ clientId, actor: 'test' }), (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container');
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });
  });
}
