// Two revives of one client at once (two orchestrators, each with its own guard): exactly one brings the agent
// back, the other is refused as a conflict that says another operation is reviving it, and does nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import { systemClock } from '../../../orchestrator/src/ports/clock.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/provision-client.ts';
import { ReviveClientService } from '../../../orchestrator/src/services/revive-client.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, newClient, recordingStandIns, type StandIns } from '../../helpers/client-operation-bed.ts';

for (const backend of inProcessBackends) {
  describe(`two revives at once (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'lifecycle-claims-revive');

    const reviveOver = (parts: StandIns) =>
      new ReviveClientService({
        config: loadConfig({ AGENT_FLEET_HOME: bed.homeDir }),
        registry: bed.opened.registry,
        runtime: parts.runtime,
        targets: parts.targets,
        secrets: parts.store,
        control: parts.control,
        health: parts.health,
        clock: systemClock,
        logger: createSilentLogger(),
        vaultAddressFor: async () => 'https://127.0.0.1:8200',
        introduce: parts.introduce,
        guard: new ClientOperationGuard(),
      });

    test('one wins; the other is a conflict naming the revive in progress and touches nothing', async () => {
      const clientId = parseClientId('lcrevive');
      const at = new Date();
      await bed.opened.registry.claimForProvisioning(newClient(clientId, at), 'op-provision', at, STALE_OPERATION_MS);
      await bed.opened.registry.setStatus(clientId, 'killed', 'kill switch (test)', at);
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
