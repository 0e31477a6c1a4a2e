// A restore of a killed client: the backup (maybe older than the kill) is swapped in and the kill flag put
// back, the agent is not started. When the flag cannot be placed the restore must not report success.
// Stand-ins for the registry and the engine; real backup encryption under an in-memory client key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClientId } from '@agent-fleet/kernel/client-id';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { NewOpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import type { RestoredChain } from '../../../orchestrator/src/services/backup/restored-chain.ts';
import { ACME, RUNNING_AGENT, now, oneBackup, restoreService, statusRegistry } from './restore-bed.ts';

/** A kill that lands while the restore runs: in the swap, or in the agent's introduction. */
type KillDuring = 'swap' | 'introduce' | null;

const VERIFIED_CHAIN: RestoredChain = { ok: true, restoredHead: null, checkpoint: null, missingRecords: 0, message: '' };

async function restoreKilled(placeFails: boolean, initial: ClientStatus = 'killed', killDuring: KillDuring = null, chain: RestoredChain = VERIFIED_CHAIN) {
  let status: ClientStatus = initial;
  const stops: number[] = [];
  let unregistered = 0;
  const kill = (phase: KillDuring) => {
    if (killDuring === phase) status = 'killed';
  };
  const log: NewOpsLogEntry[] = [];
  const placed: string[] = [];
  let started = 0;
  const registry = statusRegistry({ get: () => status, set: (to) => void (status = to) }, log);
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () => (started === 0 ? null : RUNNING_AGENT),
    stopAgent: async (_clientId: ClientId, grace: number) => void stops.push(grace),
    removeAgent: async () => undefined,
    createAgent: async () => undefined,
    startAgent: async () => void (started += 1),
    placeFiles: async (_clientId: ClientId, files: Readonly<Record<string, string>>) => {
      if (placeFails) throw new Error('engine refused the copy (injected)');
      placed.push(...Object.keys(files));
    },
    volumes: {
      recover: async (): Promise<VolumeSwapOutcome> => 'clean',
      stage: async (_clientId: ClientId, _image: string, _name: string, content: AsyncIterable<Uint8Array>) => {
        for await (const _chunk of content);
      },
      swap: async (): Promise<VolumeSwapOutcome> => {
        kill('swap');
        return 'swapped';
      },
    } as Partial<ContainerRuntime['volumes']> as ContainerRuntime['volumes'],
  } as Partial<ContainerRuntime> as ContainerRuntime;
  const { backups, backupId } = await oneBackup();
  const service = restoreService({
    registry,
    runtime,
    backups,
    unregistered: () => void (unregistered += 1),
    introduce: async () => kill('introduce'),
    verifyChain: async () => chain,
    secrets: { writeSecret: async () => ({ version: 1 }) },
  });
  const outcome = await service.restore({ clientId: ACME, backupId, actor: 'ops' }).then(
    (result) => ({ result, error: null as unknown }),
    (error: unknown) => ({ result: null, error }),
  );
  return { ...outcome, status: () => status, log, placed, started: () => started, stops, unregistered: () => unregistered };
}

describe('restoring a killed client', () => {
  test('the kill flag is put back and the agent stays stopped', async () => {
    const run = await restoreKilled(false);
    assert.equal(run.error, null);
    assert.equal(run.result?.started, false);
    assert.deepEqual(run.placed, [KILL_FLAG_FILE]);
    assert.equal(run.status(), 'killed');
    assert.equal(run.started(), 0);
    assert.equal(run.log.at(-1)?.outcome, 'success');
  });

  test('a kill flag that cannot be placed fails the restore (logged as failed), and the client stays killed', async () => {
    const run = await restoreKilled(true);
    assert.match(String((run.error as Error | null)?.message), /kill flag could not be placed/);
    assert.equal(run.status(), 'killed');
    assert.equal(run.started(), 0);
    assert.equal(run.log.at(-1)?.outcome, 'failed');
  });
});

describe('a kill that lands while an active client is being restored', () => {
  test('during the swap: the agent is not started, the kill flag is in the restored volume, the client stays killed', async () => {
    const run = await restoreKilled(false, 'active', 'swap');
    assert.match(String((run.error as Error | null)?.message), /was killed while it was being restored/);
    assert.equal(run.status(), 'killed');
    assert.equal(run.started(), 0);
    assert.ok(run.placed.includes(KILL_FLAG_FILE));
    assert.equal(run.log.at(-1)?.outcome, 'failed');
  });

  test('during the introduction: the agent started is stopped at once and flagged, its target removed, the kill stands', async () => {
    const run = await restoreKilled(false, 'active', 'introduce');
    assert.match(String((run.error as Error | null)?.message), /was killed while it was being restored/);
    assert.equal(run.status(), 'killed', 'the restore does not set the client back to active');
    assert.equal(run.started(), 1);
    assert.equal(run.stops.at(-1), 0, 'stopped without grace, as the kill stops');
    assert.ok(run.placed.includes(KILL_FLAG_FILE));
    assert.equal(run.unregistered(), 1);
    assert.equal(run.log.at(-1)?.outcome, 'failed');
  });

  test('no kill: an active client is restored and active again', async () => {
    const run = await restoreKilled(false, 'active', null);
    assert.equal(run.error, null, String(run.error));
    assert.equal(run.status(), 'active');
    assert.equal(run.started(), 1);
    assert.equal(run.log.at(-1)?.outcome, 'success');
  });
});

describe('the ops log of a restore', () => {
  test('a restored chain that is broken or of another history is not logged as a success', async () => {
    const broken: RestoredChain = { ok: false, restoredHead: { seq: 45 }, checkpoint: { seq: 40, hash: 'h'.repeat(64), at: now().toISOString() }, missingRecords: 0, message: "the restored chain does not hold the checkpoint's record 40" };
    const run = await restoreKilled(false, 'active', null, broken);
    assert.equal(run.error, null, String(run.error));
    assert.equal(run.result?.chain?.ok, false);
    assert.equal(run.log.at(-1)?.action, 'restore');
    assert.equal(run.log.at(-1)?.outcome, 'partial');
  });
});

describe('restoring a failed client', () => {
  test('the agent the restore started is watched again: the client becomes active, not left failed', async () => {
    const run = await restoreKilled(false, 'failed', null);
    assert.equal(run.error, null, String(run.error));
    assert.equal(run.result?.started, true);
    assert.equal(run.status(), 'active');
    assert.equal(run.log.at(-1)?.outcome, 'success');
  });
});
