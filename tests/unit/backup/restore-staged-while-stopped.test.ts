// A restore stages the backup inside the client's volume, which the agent can write. The agent (perhaps the
// compromised one the restore is for) must be stopped before the staged tree lands there, or it could rewrite
// what is about to be swapped in. A staging that fails still brings a running agent back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { RestoredChain } from '../../../orchestrator/src/services/backup/restored-chain.ts';
import { ACME, RUNNING_AGENT, oneBackup, restoreService, statusRegistry } from './restore-bed.ts';

const VERIFIED_CHAIN: RestoredChain = { ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' };

/** A restore of an active client whose agent runs, over an engine stand-in that records what ran when. */
async function restoreRunningAgent(stagingFails: boolean) {
  let status: ClientStatus = 'active';
  let running = true;
  const agentRunningWhileStaged: boolean[] = [];
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => ({ ...RUNNING_AGENT, running, status: running ? 'running' : 'exited' }),
    stopAgent: async () => void (running = false),
    removeAgent: async () => undefined,
    createAgent: async () => undefined,
    startAgent: async () => void (running = true),
    placeFiles: async () => undefined,
    volumes: {
      recover: async (): Promise<VolumeSwapOutcome> => 'clean',
      stage: async (_clientId: unknown, _image: string, _name: string, content: AsyncIterable<Uint8Array>) => {
        agentRunningWhileStaged.push(running);
        for await (const _chunk of content);
        if (stagingFails) throw new Error('the engine lost the archive (injected)');
      },
      swap: async (): Promise<VolumeSwapOutcome> => 'swapped',
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const { backups, backupId } = await oneBackup();
  const service = restoreService({
    registry: statusRegistry({ get: () => status, set: (to) => void (status = to) }),
    runtime,
    backups,
    introduce: async () => undefined,
    verifyChain: async () => VERIFIED_CHAIN,
    secrets: { writeSecret: async () => ({ version: 1 }) },
  });
  const error = await service.restore({ clientId: ACME, backupId, actor: 'ops' }).then(
    () => null,
    (failure: unknown) => failure,
  );
  return { error, agentRunningWhileStaged, running: () => running, status: () => status };
}

describe('staging a restore', () => {
  test('the agent is stopped before the backup is staged in its volume', async () => {
    const run = await restoreRunningAgent(false);
    assert.equal(run.error, null);
    assert.deepEqual(run.agentRunningWhileStaged, [false]);
    assert.equal(run.running(), true, 'the restored agent runs');
  });

  test('a staging that fails brings the stopped agent back on its old data', async () => {
    const run = await restoreRunningAgent(true);
    assert.match((run.error as Error).message, /lost the archive/);
    assert.deepEqual(run.agentRunningWhileStaged, [false]);
    assert.equal(run.running(), true);
    assert.equal(run.status(), 'active');
  });
});
