import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { BackupInfo } from '../../ports/backup-store.ts';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { ClientStatus } from '../../domain/client-status.ts';
import type { Registry } from '../../ports/registry.ts';
import type { BackupService } from './backup-service.ts';
import { withIdleDeadline, type IdleTimer } from './idle-deadline.ts';
import { checkedVolumeSnapshot } from './snapshot-tar.ts';
import { thawAgentRetrying } from './thaw-agent.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';

/** Clients whose volume holds data worth a scheduled backup. */
const BACKED_UP: ReadonlySet<ClientStatus> = new Set(['active', 'killed']);

export interface ClientBackupsDependencies {
  config: Pick<OrchestratorConfig, 'agent'>;
  registry: Registry;
  runtime: ContainerRuntime;
  backups: BackupService;
  /** One operation on a client's volume at a time (shared with restore, erasure and deprovisioning). */
  guard: ClientOperationGuard;
  logger: Logger;
  /** Told of each backup made (metrics). */
  onBackup?: (clientId: ClientId, info: BackupInfo) => void;
  /** How long a snapshot may send nothing before the backup gives up and thaws the agent, in ms (default 5 minutes). */
  snapshotIdleMs?: number;
  /** The wait behind `snapshotIdleMs` (tests drive it by hand). */
  idleTimer?: IdleTimer;
  /** How long to wait before trying again to thaw an agent whose thaw failed, in ms (default 1 s; 3 tries). */
  thawRetryDelayMs?: number;
}

/** A stored backup; `frozen`: the agent was paused while its volume was read; `stillPaused`: and it could not be thawed. */
export type ClientBackupResult = BackupInfo & { frozen: boolean; stillPaused: boolean };

const DEFAULT_SNAPSHOT_IDLE_MS = 5 * 60_000;

export interface ScheduledBackupReport {
  backedUp: string[];
  /** Listed for the run, but erased, closed or no longer active or killed when their turn came. */
  skipped: string[];
  pruned: number;
  failed: { clientId: string; error: string }[];
  /** Clients whose agent a backup froze and could not thaw: paused until an operator or the next backup thaws it. */
  stillPaused: string[];
}

/**
 * Backups of clients' volumes: a consistent snapshot (the agent is frozen while its volume is read, so
 * no journal changes under the copy; a write cut short by the freeze is repaired on open like a crash),
 * checked to be one a restore can use, encrypted under the client's key by the BackupService, pruned by
 * the retention policy.
 */
export class ClientBackups {
  private readonly deps: ClientBackupsDependencies;

  constructor(deps: ClientBackupsDependencies) {
    this.deps = deps;
  }

  async backup(request: { clientId: unknown; actor: string }): Promise<ClientBackupResult> {
    const clientId = parseClientId(request.clientId);
    return this.deps.guard.exclusive(clientId, 'backup', async () => {
      const client = await this.deps.registry.getClient(clientId);
      if (!client) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
      if (client.status === 'provisioning' || client.status === 'deprovisioning') throw new FleetError('busy', `${clientId} is ${client.status}; back it up when that finishes`);
      return this.backUp(clientId, request.actor);
    });
  }

  /**
   * The scheduled backup of one client, its state read again once the client is held: the run lists the
   * clients once, and one erased, closed or failed since is not backed up (nor its closed volume copied
   * into a new backup) but skipped. Null when skipped.
   */
  private async scheduledBackup(clientId: ClientId, actor: string): Promise<ClientBackupResult | null> {
    return this.deps.guard.exclusive(clientId, 'backup', async () => {
      const client = await this.deps.registry.getClient(clientId);
      if (client === null || !BACKED_UP.has(client.status)) return null;
      return this.backUp(clientId, actor);
    });
  }

  private async backUp(clientId: ClientId, actor: string): Promise<ClientBackupResult> {
    const { registry, runtime, backups } = this.deps;
    const frozen = await runtime.volumes.freezeAgent(clientId);
    let info: BackupInfo;
    try {
      const snapshot = await runtime.volumes.snapshot(clientId, this.deps.config.agent.image);
      // Checked as it streams: a snapshot a restore would refuse (cut off, a link or device in it, no data
      // key) fails here and is never stored, rather than counting as the newest backup and letting the
      // retention policy delete the older good ones.
      // A snapshot that stalls must not keep the agent frozen and the client held (erasure included) for ever.
      const flowing = withIdleDeadline(snapshot as AsyncIterable<Buffer>, this.deps.snapshotIdleMs ?? DEFAULT_SNAPSHOT_IDLE_MS, `the snapshot of ${clientId}`, this.deps.idleTimer);
      info = await backups.create(clientId, checkedVolumeSnapshot(flowing));
    } catch (error) {
      // The backup's own failure is what the caller hears; an agent left paused by it is reported besides.
      if (frozen) await this.thawOrReport(clientId, actor, { error: (error as Error).message });
      throw error;
    }
    const stillPaused = frozen && !(await this.thawOrReport(clientId, actor, null));
    await registry.appendOpsLog({
      actor,
      action: 'backup',
      clientId,
      reason: null,
      outcome: stillPaused ? 'partial' : 'success',
      details: { backupId: info.backupId, bytes: info.sizeBytes, agentFrozen: frozen, agentStillPaused: stillPaused },
    });
    this.deps.onBackup?.(clientId, info);
    return { ...info, frozen, stillPaused };
  }

  /**
   * Thaws the agent a backup froze, with a few tries; true once thawed. An agent that stays paused serves
   * nobody and nothing else unpauses it before the next backup or orchestrator start, so it is logged at
   * error level and, when the backup failed too, given an ops-log entry of its own (a stored backup's entry says it).
   */
  private async thawOrReport(clientId: ClientId, actor: string, backupFailure: { error: string } | null): Promise<boolean> {
    const thaw = await thawAgentRetrying(this.deps.runtime.volumes, clientId, this.deps.thawRetryDelayMs);
    if (thaw.thawed) return true;
    this.deps.logger.error('the agent is still paused after its backup: unpause it (`docker unpause`) or run a backup again', { client: clientId, error: thaw.error });
    if (backupFailure !== null) {
      await this.deps.registry
        .appendOpsLog({ actor, action: 'backup', clientId, reason: null, outcome: 'failed', details: { ...backupFailure, agentStillPaused: true, thawError: (thaw.error as Error | undefined)?.message ?? String(thaw.error) } })
        .catch((error: unknown) => this.deps.logger.error('recording an agent left paused by a backup failed', { client: clientId, error }));
    }
    return false;
  }

  list(clientId: unknown): Promise<BackupInfo[]> {
    return this.deps.backups.list(parseClientId(clientId));
  }

  /** The daily job: a backup of every active or killed client, then the retention policy applied. */
  async runScheduled(actor = 'scheduler'): Promise<ScheduledBackupReport> {
    const report: ScheduledBackupReport = { backedUp: [], skipped: [], pruned: 0, failed: [], stillPaused: [] };
    for (const client of await this.deps.registry.listClients()) {
      if (!BACKED_UP.has(client.status)) continue;
      try {
        const backup = await this.scheduledBackup(client.id, actor);
        if (backup === null) {
          report.skipped.push(client.id);
          continue;
        }
        report.backedUp.push(client.id);
        if (backup.stillPaused) report.stillPaused.push(client.id);
        report.pruned += (await this.deps.backups.prune(client.id)).deleted.length;
      } catch (error) {
        this.deps.logger.error('scheduled backup failed', { client: client.id, error });
        report.failed.push({ clientId: client.id, error: (error as Error).message });
      }
    }
    return report;
  }

  /** Unfreezes every agent (after a crash of the orchestrator in the middle of a backup). */
  async thawAll(): Promise<void> {
    for (const client of await this.deps.registry.listClients()) {
      await this.deps.runtime.volumes.thawAgent(client.id).catch((error: unknown) => this.deps.logger.warn('thawing an agent failed', { client: client.id, error }));
    }
  }
}
