// How a failed provisioning gives its registry claim back, against a real registry and stand-ins for Vault and
// the engine: only a claim it still holds (a kill or a takeover during the run is kept), the saga's own error
// reaches the caller even when the release fails, and a long step keeps the operation's heartbeat fresh.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { SagaFailedError } from '../../../orchestrator/src/domain/saga.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import {
  claimedBy,
  emptyRegistryBed,
  failingAtContainer,
  killDuringProvisioning,
  provisionServiceOver,
  registryWith,
  takenOverBy,
  type StandIns,
} from '../../helpers/client-operation-bed.ts';

for (const backend of inProcessBackends) {
  describe(`a failed provisioning releases only the claim it still holds (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'provision-claim');

    const serviceOver = (stands: StandIns, registry: Registry = bed.opened.registry, heartbeatIntervalMs?: number) =>
      provisionServiceOver(stands, {
        registry,
        homeDir: bed.homeDir,
        prepareIntroduction: async () => assert.fail('no introduction after a failed container step'),
        ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }),
      });

    const failsAtContainer = (error: unknown) => error instanceof SagaFailedError && error.failedStep === 'container';
    const killed = (clientId: ClientId) => killDuringProvisioning(bed.opened.registry, clientId);

    test('a new client killed while it is provisioned stays killed: the rollback does not delete its row', async () => {
      const clientId = parseClientId('pckillnew');
      await assert.rejects(serviceOver(failingAtContainer(killed(clientId))).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a client provisioned again and killed meanwhile stays killed, not failed (so only revive brings it back)', async () => {
      const clientId = parseClientId('pckillold');
      await assert.rejects(serviceOver(failingAtContainer()).provision({ clientId, actor: 'test' }), failsAtContainer);
      // A client that failed before keeps a row: claim it once more by hand, then fail it, as a failed provisioning leaves it.
      await claimedBy(bed.opened.registry, clientId, randomUUID(), new Date());
      await bed.opened.registry.setStatus(clientId, 'failed', 'earlier failure', new Date());

      await assert.rejects(serviceOver(failingAtContainer(killed(clientId))).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'killed');
    });

    test('a client taken over by another operation during the run keeps the other operation’s claim', async () => {
      const clientId = parseClientId('pctakeover');
      const otherOperation = randomUUID();
      await assert.rejects(serviceOver(failingAtContainer(takenOverBy(bed.opened.registry, clientId, otherOperation))).provision({ clientId, actor: 'test' }), failsAtContainer);
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'provisioning');
      assert.equal(row?.operationId, otherOperation);
    });

    test('a claim that cannot be released does not hide the failure: the caller gets the saga’s error, the ops log has it', async () => {
      const clientId = parseClientId('pcrelease');
      const registry = registryWith(bed.opened.registry, { deleteClient: async () => Promise.reject(new Error('registry unreachable (injected)')) });
      await assert.rejects(serviceOver(failingAtContainer(), registry).provision({ clientId, actor: 'test' }), failsAtContainer);
      const logged = await bed.opened.registry.listOpsLog({ clientId, actions: ['provision'] });
      assert.equal(logged.at(-1)?.outcome, 'failed');
      assert.match(String(logged.at(-1)?.details['claimNotReleased']), /registry unreachable/);
    });

    test('a step that outlasts the heartbeat interval keeps the operation’s heartbeat fresh', async () => {
      const clientId = parseClientId('pcheartbeat');
      const beats: string[] = [];
      const registry = registryWith(bed.opened.registry, {
        recordProgress: (id: ClientId, operationId: string, step: string, at: Date) => {
          beats.push(step);
          return bed.opened.registry.recordProgress(id, operationId, step, at);
        },
      });
      const slowCreate = () => new Promise<void>((resolve) => setTimeout(resolve, 120));
      await assert.rejects(serviceOver(failingAtContainer(slowCreate), registry, 10).provision({ clientId, actor: 'test' }), failsAtContainer);
      assert.ok(beats.filter((step) => step === 'container').length >= 4, `the container step refreshed the heartbeat (${beats.join(', ')})`);
    });
  });
}
