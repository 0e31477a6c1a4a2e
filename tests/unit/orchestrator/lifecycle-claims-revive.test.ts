// Two revives of one client at once (two orchestrators, each with its own guard): exactly one brings the agent
// back, the other is refused as a conflict that says another operation is reviving it, and does nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, killedClient, recordingStandIns, reviveServiceOver, type StandIns } from '../../helpers/client-operation-bed.ts';

for (const backend of inProcessBackends) {
  describe(`two revives at once (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'lifecycle-claims-revive');

    const reviveOver = (parts: StandIns) => reviveServiceOver(parts, { registry: bed.opened.registry, homeDir: bed.homeDir, guard: new ClientOperationGuard() });

    test('one wins; the other is a conflict naming the revive in progress and touches nothing', async () => {
      const clientId = parseClientId('lcrevive');
      await killedClient(bed.opened.registry, clientId);
      const secondCalls: string[] = [];
      let second: unknown;
      const first = recordingStandIns([], {
        introduce: async () => {
          second = await reviveOver(recordingStandIns(secondCalls)).revive({ clientId, reason: 'false alarm', actor: 'ops' }).then(
            () => 'revived',
            (error: unknown) => error,
          );
        },
      });
      await reviveOver(first).revive({ clientId, reason: 'false alarm', actor: 'ops' });
      assert.ok(second instanceof FleetError && second.code === 'conflict' && /another operation/.test(second.message), `the second revive is refused (${String(second)})`);
      assert.deepEqual(secondCalls, [], 'the refused revive neither unlocks, starts nor fails anything closed');
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'active');
    });
  });
}
