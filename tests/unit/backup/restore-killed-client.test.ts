// A restore of a killed client: the backup (maybe older than the kill) is swapped in and the kill flag put
// back, the agent is not started. When the flag cannot be placed the restore must not report success.
// Stand-ins for the registry and the engine; real backup encryption under an in-memory client key.
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import { describe, test } from 'node:test';
import tar from 'tar-stream';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { KILL_FLAG_FILE } from '@agent-fleet/kernel/kill-flag';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { BackupInfo, BackupStore } from '../../../orchestrator/src/ports/backup-store.ts';
import type { ContainerRuntime, VolumeSwapOutcome } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { RestoreClientService } from '../../../orchestrator/src/services/backup/restore-client.ts';
import type { RestoredChain } from '../../../orchestrator/src/services/backup/restored-chain.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

const ACME = parseClientId('acme');
const now = () => new Date('2026-12-10T12:00:00.000Z');

async function snapshot(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: './', type: 'directory' });
  pack.entry({ name: './keys/', type: 'directory' });
  pack.entry({ name: './keys/data-key.wrapped' }, 'vault:v1:abc');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function memoryStore(): BackupStore {
  const kept = new Map<string, Buffer>();
  return {
    async put(clientId: ClientId, backupId: string, content: AsyncIterable<Uint8Array>): Promise<BackupInfo> {
      const parts: Buffer[] = [];
      for await (const chunk of content) parts.push(Buffer.from(chunk));
      kept.set(backupId, Buffer.concat(parts));
      return { clientId, backupId, createdAt: now().toISOString(), sizeBytes: kept.get(backupId)?.length ?? 0 };
    },
    list: async (clientId) => [...kept].map(([backupId, bytes]) => ({ clientId, backupId, createdAt: now().toISOString(), sizeBytes: bytes.length })),
    get: async (_clientId, backupId) => ReadableStream.from([kept.get(backupId) ?? Buffer.alloc(0)]) as Readable,
    delete: async (_clientId, backupId) => kept.delete(backupId),
    deleteAll: async () => {
      const count = kept.size;
      kept.clear();
      return count;
    },
  };
}

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
  const record = (): ClientRecord => ({ id: ACME, status, provider: 'gmail', admins: [], configYaml: '', subnet: '10.9.0.0/29', onboardingStartedAt: now().toISOString(), operationId: null, operationHeartbeatAt: null, statusReason: null, createdAt: now().toISOString(), updatedAt: now().toISOString() });
  const registry = {
    getClient: async () => record(),
    transition: async (_id: ClientId, from: readonly ClientStatus[], to: ClientStatus) => {
      if (!from.includes(status)) return false;
      status = to;
      return true;
    },
    setStatus: async (_id: ClientId, to: ClientStatus) => {
      status = to;
    },
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      log.push(entry);
      return { ...entry, seq: log.length, at: now().toISOString(), prevHash: '', hash: '' };
    },
  } as Partial<Registry> as Registry;
  const runtime = {
    ensureVolume: async () => ({ created: false }),
    inspectAgent: async () =>
      started === 0
        ? null
        : { clientId: ACME, exists: true, running: true, status: 'running', exitCode: null, startedAt: now().toISOString(), endpoints: { control: '127.0.0.1:1', metrics: '127.0.0.1:2' } },
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
  const backups = new BackupService({ store: memoryStore(), keys: new MemoryKeyWrapper([ACME]), clock: { now }, logger: createSilentLogger() });
  const bytes = await snapshot();
  const info = await backups.create(ACME, (async function* () {
    yield bytes;
  })());
  const service = new RestoreClientService({
    config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }),
    registry,
    runtime,
    targets: { register: async () => undefined, unregister: async () => void (unregistered += 1) } as Partial<ScrapeTargets> as ScrapeTargets,
    health: { isHealthy: async () => true } as AgentHealthProbe,
    backups,
    guard: new ClientOperationGuard(),
    clock: { now },
    logger: createSilentLogger(),
    vaultAddressFor: async () => 'https://10.9.0.1:8200',
    introduce: async () => kill('introduce'),
    verifyChain: async () => chain,
    secrets: { writeSecret: async () => ({ version: 1 }) },
  });
  const outcome = await service.restore({ clientId: ACME, backupId: info.backupId, actor: 'ops' }).then(
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
