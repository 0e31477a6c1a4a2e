// A restore owns the client while it runs, under its own operation id and heartbeat: another orchestrator's
// provisioning does not take the restoring client over as abandoned, and a restore that fails after a kill
// came does not start the killed client's agent again. Against a real registry (PGlite), stand-ins for the
// engine, real backup encryption under an in-memory client key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { RestoredChain } from '../../../orchestrator/src/services/backup/restored-chain.ts';
import { STALE_OPERATION_MS } from '../../../orchestrator/src/services/operation-heartbeat.ts';
import { registryBackends } from '../../helpers/registries.ts';
import { registryPerTest } from '../../helpers/registry-per-test.ts';
import { ACME, RUNNING_AGENT, now, oneBackup, restoreService } from './restore-bed.ts';

const VERIFIED_CHAIN: RestoredChain = { ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' };
const LONG_AGO = new Date(now().getTime() - 10 * STALE_OPERATION_MS);
const acmeClient = (at: Date) => ({ id: ACME, provider: 'gmail' as const, admins: [], configYaml: `client: ${ACME}\n`, onboardingStartedAt: at.toISOString() });

/** The engine, recording calls; `duringStage` runs while the backup is staged, `swapFails` makes the swap fail. */
function engine(calls: string[], running: { value: boolean }, options: { duringStage?: () => Promise<void>; swapFails?: boolean } = {}): ContainerRuntime {
  const record = (name: string) => async () => void calls.push(name);
  return {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => (running.value ? RUNNING_AGENT : null),
    stopAgent: async () => {
      calls.push('stopAgent');
      running.value = false;
    },
    removeAgent: record('removeAgent'),
    createAgent: record('createAgent'),
    startAgent: async () => {
      calls.push('startAgent');
      running.value = true;
    },
    placeFiles: record('placeFiles'),
    volumes: {
      recover: async (): Promise<VolumeSwapOutcome> => 'clean',
      stage: async (_clientId: ClientId, _image: string, _name: string, content: AsyncIterable<Uint8Array>) => {
        for await (const _chunk of content);
        await options.duringStage?.();
      },
      swap: async (): Promise<VolumeSwapOutcome> => {
        if (options.swapFails) throw new Error('engine failed the swap (injected)');
        return 'swapped';
      },
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
}

async function restoreOn(registry: Registry, runtime: ContainerRuntime, introduce: () => Promise<void> = async () => undefined) {
  const { backups, backupId } = await oneBackup();
  const service = restoreService({
    registry,
    runtime,
    backups,
    introduce,
    verifyChain: async () => VERIFIED_CHAIN,
    secrets: { writeSecret: async () => ({ version: 1 }) },
  });
  return service.restore({ clientId: ACME, backupId, actor: 'ops' });
}

for (const backend of registryBackends.filter((each) => each.name === 'pglite')) {
  describe(`a restore owns the client while it runs (${backend.name} registry)`, () => {
    // An active client, provisioned long ago: its provisioning's heartbeat is long stale.
    const opened = registryPerTest(backend, async (registry) => {
      await registry.claimForProvisioning(acmeClient(LONG_AGO), 'op-provision', LONG_AGO, STALE_OPERATION_MS);
      await registry.transition(ACME, ['provisioning'], 'active', null, LONG_AGO, { operationId: 'op-provision' });
    });

    test('a restoring client is busy for another orchestrator’s provisioning, and the restore finishes', async () => {
      let claim: string | undefined;
      const runtime = engine([], { value: true }, {
        duringStage: async () => {
          claim = (await opened.registry.claimForProvisioning(acmeClient(now()), 'op-elsewhere', now(), STALE_OPERATION_MS)).outcome;
        },
      });
      const result = await restoreOn(opened.registry, runtime);
      assert.equal(claim, 'busy');
      assert.equal(result.started, true);
      const row = await opened.registry.getClient(ACME);
      assert.equal(row?.status, 'active');
      assert.notEqual(row?.operationId, 'op-elsewhere');
    });

    test('a restore that fails after a kill came does not start the killed agent again', async () => {
      const calls: string[] = [];
      const running = { value: true };
      const runtime = engine(calls, running, {
        // The kill switch lands while the backup is staged: killed in the registry, its agent stopped.
        duringStage: async () => {
          assert.ok(await opened.registry.transition(ACME, ['provisioning'], 'killed', 'kill switch (test)', now()));
          running.value = false;
          calls.length = 0;
        },
        swapFails: true,
      });
      await assert.rejects(restoreOn(opened.registry, runtime), /injected/);
      assert.ok(!calls.includes('startAgent'), `no agent started after the kill (${calls.join(', ')})`);
      assert.equal(running.value, false);
      const row = await opened.registry.getClient(ACME);
      assert.equal(row?.status, 'killed');
      assert.equal(row?.statusReason, 'kill switch (test)');
    });

    test('a restore that lost the client to a revive after a kill leaves the revived agent alone', async () => {
      const calls: string[] = [];
      const running = { value: true };
      const runtime = engine(calls, running);
      // While the restored agent is introduced: the kill switch, then a revive on another orchestrator that
      // brings the client back before the restore finishes.
      const killThenRevive = async () => {
        assert.ok(await opened.registry.transition(ACME, ['provisioning'], 'killed', 'kill switch (test)', now()));
        assert.ok(await opened.registry.claim(ACME, 'op-revive', { from: ['killed'], to: 'provisioning', reason: 'reviving' }, now(), STALE_OPERATION_MS));
        assert.ok(await opened.registry.transition(ACME, ['provisioning'], 'active', null, now(), { operationId: 'op-revive' }));
        calls.length = 0;
      };
      await assert.rejects(restoreOn(opened.registry, runtime, killThenRevive), /taken over/);
      assert.deepEqual(calls, [], 'the revived agent is neither stopped nor flagged');
      const row = await opened.registry.getClient(ACME);
      assert.equal(row?.status, 'active');
      assert.equal(row?.operationId, 'op-revive');
    });
  });
}
