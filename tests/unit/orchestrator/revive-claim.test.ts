// A revive owns the client while it runs, under its own operation id and heartbeat: a provisioning that a kill
// interrupted (and that kept its id through the kill) does not finish over the revive, and another
// orchestrator's provisioning does not take the reviving client over as abandoned. Against a real registry
// (PGlite) and recording stand-ins for Vault, the engine, the agent and the scrape targets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/operation-heartbeat.ts';
import { inProcessBackends } from '../../helpers/client-on-registry.ts';
import { emptyRegistryBed, killedClient, newClient, provisionServiceOver, recordingStandIns, reviveServiceOver, type StandIns } from '../../helpers/client-operation-bed.ts';

/** Resolves when `open` is called: a point one operation waits at until the test lets it go on. */
function gate(): { reached: Promise<void>; arrive: () => void; open: () => void; passed: Promise<void> } {
  let arrive = () => undefined as void;
  let open = () => undefined as void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const passed = new Promise<void>((resolve) => (open = resolve));
  return { reached, arrive, open, passed };
}

for (const backend of inProcessBackends) {
  describe(`a revive owns the client while it runs (${backend.name} registry)`, () => {
    const bed = emptyRegistryBed(backend, 'revive-claim');

    const reviveOver = (parts: StandIns, guard: ClientOperationGuard, heartbeatIntervalMs?: number) =>
      reviveServiceOver(parts, { registry: bed.opened.registry, homeDir: bed.homeDir, guard, ...(heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs }) });
    const provisionOver = (parts: StandIns, guard: ClientOperationGuard) => provisionServiceOver(parts, { registry: bed.opened.registry, homeDir: bed.homeDir, guard });

    test('a provisioning killed and then revived while it ran does not become active over the revive', async () => {
      const clientId = parseClientId('rcprov');
      const guard = new ClientOperationGuard();
      const reviveCalls: string[] = [];
      const atIntroduce = gate();
      const reviveParts = recordingStandIns(reviveCalls, {
        introduce: async () => {
          atIntroduce.arrive();
          await atIntroduce.passed;
        },
      });
      let revived: Promise<unknown> | undefined;
      const provisionCalls: string[] = [];
      const provisionParts = recordingStandIns(provisionCalls, {
        // While the provisioning creates its container: the kill switch, then a revive that gets as far as
        // introducing the agent before the provisioning goes on.
        createAgent: async () => {
          assert.ok(await bed.opened.registry.transition(clientId, ['provisioning'], 'killed', 'kill switch (test)', new Date()));
          revived = reviveOver(reviveParts, guard).revive({ clientId, reason: 'false alarm', actor: 'ops' });
          revived.catch(() => undefined);
          await atIntroduce.reached;
        },
      });
      const provisioned = await provisionOver(provisionParts, guard).provision({ clientId, actor: 'ops' }).then(
        (result) => result.outcome,
        (error: unknown) => error,
      );
      assert.ok(provisioned instanceof FleetError && provisioned.code === 'conflict', `the interrupted provisioning does not finish (${String(provisioned)})`);
      assert.ok(!provisionCalls.includes('startAgent'), `the interrupted provisioning starts no agent (${provisionCalls.join(', ')})`);
      assert.ok(!provisionCalls.includes('removeVolume') && !provisionCalls.includes('removeClient'), `nor undoes what the revive now owns (${provisionCalls.join(', ')})`);
      atIntroduce.open();
      await revived;
      const row = await bed.opened.registry.getClient(clientId);
      assert.equal(row?.status, 'active', 'the revive finished');
      assert.ok(!reviveCalls.includes('lockClient'), `the revive did not fail closed (${reviveCalls.join(', ')})`);
    });

    test('a reviving client is busy for another orchestrator’s provisioning, however old the heartbeat it had', async () => {
      const clientId = parseClientId('rcbusy');
      const longAgo = new Date(Date.now() - 10 * STALE_OPERATION_MS);
      await bed.opened.registry.claimForProvisioning(newClient(clientId, longAgo), 'op-provision', longAgo, STALE_OPERATION_MS);
      await bed.opened.registry.setStatus(clientId, 'killed', 'kill switch (test)', longAgo);
      let claim: string | undefined;
      const parts = recordingStandIns([], {
        introduce: async () => {
          claim = (await bed.opened.registry.claimForProvisioning(newClient(clientId, new Date()), 'op-elsewhere', new Date(), STALE_OPERATION_MS)).outcome;
        },
      });
      await reviveOver(parts, new ClientOperationGuard()).revive({ clientId, reason: 'false alarm', actor: 'ops' });
      assert.equal(claim, 'busy');
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'active');
    });

    test('a revive that lost the client to a later revive (after a kill) leaves that revive’s agent alone', async () => {
      const clientId = parseClientId('rctwice');
      await killedClient(bed.opened.registry, clientId);
      const firstCalls: string[] = [];
      const secondCalls: string[] = [];
      // The first revive (on one orchestrator) is introducing the agent when the kill switch lands and a
      // second revive (on another orchestrator, its own guard) brings the client back.
      const first = recordingStandIns(firstCalls, {
        introduce: async () => {
          assert.ok(await bed.opened.registry.transition(clientId, ['provisioning'], 'killed', 'kill switch again (test)', new Date()));
          await reviveOver(recordingStandIns(secondCalls), new ClientOperationGuard()).revive({ clientId, reason: 'false alarm again', actor: 'ops' });
          firstCalls.length = 0;
        },
      });
      await assert.rejects(reviveOver(first, new ClientOperationGuard()).revive({ clientId, reason: 'false alarm', actor: 'ops' }), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
      const undoing = firstCalls.filter((call) => ['lockClient', 'revokeAgentTokens', 'stopAgent', 'placeFiles', 'unregister'].includes(call));
      assert.deepEqual(undoing, [], 'the first revive neither locks, revokes, stops, flags nor unregisters the second one’s agent');
      assert.equal((await bed.opened.registry.getClient(clientId))?.status, 'active');
    });

    test('a long revive keeps its heartbeat fresh while it runs', async () => {
      const clientId = parseClientId('rcbeat');
      await killedClient(bed.opened.registry, clientId);
      const beats = new Set<string | null>();
      const parts = recordingStandIns([], {
        // The agent takes a while to come up: the heartbeat moves on meanwhile.
        introduce: async () => {
          for (let tries = 0; tries < 200 && beats.size < 3; tries += 1) {
            beats.add((await bed.opened.registry.getClient(clientId))?.operationHeartbeatAt ?? null);
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        },
      });
      await reviveOver(parts, new ClientOperationGuard(), 5).revive({ clientId, reason: 'false alarm', actor: 'ops' });
      assert.ok(beats.size >= 3, `the heartbeat was refreshed (${[...beats].join(', ')})`);
    });
  });
}
