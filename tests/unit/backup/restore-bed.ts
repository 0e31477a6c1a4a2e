// Stand-ins shared by the restore tests: a client whose status the test holds, a backup of a minimal
// snapshot (really encrypted, under an in-memory client key) and the restore service wired around them.
import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import tar from 'tar-stream';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { loadConfig } from '../../../orchestrator/src/config.ts';
import type { ClientStatus } from '../../../orchestrator/src/domain/client-status.ts';
import type { AgentHealthProbe } from '../../../orchestrator/src/ports/agent-health.ts';
import type { BackupInfo, BackupStore } from '../../../orchestrator/src/ports/backup-store.ts';
import type { AgentWorkloadState } from '../../../orchestrator/src/ports/container-runtime.ts';
import type { ClientRecord, NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { ScrapeTargets } from '../../../orchestrator/src/ports/scrape-targets.ts';
import { BackupService } from '../../../orchestrator/src/services/backup/backup-service.ts';
import { RestoreClientService, type RestoreDependencies } from '../../../orchestrator/src/services/backup/restore-client.ts';
import { ClientOperationGuard } from '../../../orchestrator/src/services/client-operation-guard.ts';
import { MemoryKeyWrapper } from '../../helpers/memory-key-wrapper.ts';

export const ACME = parseClientId('acme');
export const now = () => new Date('2026-12-10T12:00:00.000Z');

/** The agent as the engine reports it once started. */
export const RUNNING_AGENT: AgentWorkloadState = {
  clientId: ACME,
  exists: true,
  running: true,
  status: 'running',
  exitCode: null,
  startedAt: now().toISOString(),
  endpoints: { control: '127.0.0.1:1', metrics: '127.0.0.1:2' },
};

/** The smallest volume snapshot a restore accepts: the directories and the wrapped data key (and `files` at its root). */
async function snapshot(files: Readonly<Record<string, string>> = {}): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: './', type: 'directory' });
  pack.entry({ name: './keys/', type: 'directory' });
  pack.entry({ name: './keys/data-key.wrapped' }, 'vault:v1:abc');
  for (const [name, content] of Object.entries(files)) pack.entry({ name: `./${name}` }, content);
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

/** A backup service holding one backup of the minimal snapshot (with `files` at the volume's root). */
export async function oneBackup(files: Readonly<Record<string, string>> = {}): Promise<{ backups: BackupService; backupId: string }> {
  const backups = new BackupService({ store: memoryStore(), keys: new MemoryKeyWrapper([ACME]), clock: { now }, logger: createSilentLogger() });
  const bytes = await snapshot(files);
  const info = await backups.create(ACME, (async function* () {
    yield bytes;
  })());
  return { backups, backupId: info.backupId };
}

/** A registry holding only acme, whose status the test reads and sets through `status`; ops-log entries go to `log`. */
export function statusRegistry(status: { get(): ClientStatus; set(to: ClientStatus): void }, log: NewOpsLogEntry[] = []): Registry {
  let owner: string | null = null;
  const record = (): ClientRecord => ({
    id: ACME,
    status: status.get(),
    provider: 'gmail',
    admins: [],
    configYaml: '',
    subnet: '10.9.0.0/29',
    onboardingStartedAt: now().toISOString(),
    operationId: owner,
    operationHeartbeatAt: null,
    statusReason: null,
    createdAt: now().toISOString(),
    updatedAt: now().toISOString(),
  });
  return {
    getClient: async () => record(),
    claim: async (_id: ClientId, operationId: string, move: { from: readonly ClientStatus[]; to: ClientStatus }) => {
      if (!move.from.includes(status.get())) return false;
      status.set(move.to);
      owner = operationId;
      return true;
    },
    transition: async (_id: ClientId, from: readonly ClientStatus[], to: ClientStatus, _reason: string | null, _now: Date, options: { operationId?: string } = {}) => {
      if (!from.includes(status.get()) || (options.operationId !== undefined && options.operationId !== owner)) return false;
      status.set(to);
      return true;
    },
    recordProgress: async () => undefined,
    setStatus: async (_id: ClientId, to: ClientStatus) => status.set(to),
    appendOpsLog: async (entry: NewOpsLogEntry) => {
      log.push(entry);
      return { ...entry, seq: log.length, at: now().toISOString(), prevHash: '', hash: '' };
    },
  } as Partial<Registry> as Registry;
}

/** The restore service over the given parts; the rest (config, health, guard, clock, logger, Vault address) fixed. */
export function restoreService(
  parts: Pick<RestoreDependencies, 'registry' | 'runtime' | 'backups' | 'introduce' | 'verifyChain' | 'secrets'> & { unregistered?: () => void },
): RestoreClientService {
  const { unregistered, ...given } = parts;
  return new RestoreClientService({
    ...given,
    config: loadConfig({ AGENT_FLEET_HOME: '/nonexistent-home' }),
    targets: { register: async () => undefined, unregister: async () => void unregistered?.() } as Partial<ScrapeTargets> as ScrapeTargets,
    health: { isHealthy: async () => true } as AgentHealthProbe,
    guard: new ClientOperationGuard(),
    clock: { now },
    logger: createSilentLogger(),
    vaultAddressFor: async () => 'https://10.9.0.1:8200',
  });
}
