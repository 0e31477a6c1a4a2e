import { randomBytes, randomUUID } from 'node:crypto';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { KILL_FLAG_FILE, killFlagContent } from '@agent-fleet/kernel/kill-flag';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { OrchestratorConfig } from '../../config.ts';
import type { ClientStatus } from '../../domain/client-status.ts';
import type { AgentHealthProbe } from '../../ports/agent-health.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ContainerRuntime } from '../../ports/container-runtime.ts';
import type { ClientRecord, Registry } from '../../ports/registry.ts';
import type { ScrapeTargets } from '../../ports/scrape-targets.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import { agentWorkloadSpec } from '../agent-workload.ts';
import { waitForAgentHealth } from '../wait-for-agent-health.ts';
import { parseBackupId } from './backup-id.ts';
import { resetJournalAnchor } from './journal-anchor-reset.ts';
import type { BackupService } from './backup-service.ts';
import type { RestoredChain } from './restored-chain.ts';
import { inspectVolumeSnapshot, type SnapshotSummary } from './snapshot-tar.ts';
import { snapshotWithout } from './snapshot-without.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';
import { withOperationHeartbeat } from '../operation-heartbeat.ts';
import { STALE_OPERATION_MS } from '../operation-heartbeat.ts';

const RESTORABLE: readonly ClientStatus[] = ['active', 'killed', 'failed'];

export interface RestoreDependencies {
  config: Pick<OrchestratorConfig, 'agent' | 'version'>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  backups: BackupService;
  /** One operation on a client's volume at a time (shared with backup, erasure and deprovisioning). */
  guard: ClientOperationGuard;
  clock: Clock;
  logger: Logger;
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  /** Fresh secret introduction of a started agent (and wait until it is ready). */
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /** The restored agent's chain, verified against the orchestrator's checkpoint. */
  verifyChain: (clientId: ClientId, controlAddress: string, restoredAt: Date) => Promise<RestoredChain>;
  /**
   * The client's secrets, to reset the journal heads its agent recorded in Vault (journal-anchor-reset.ts):
   * without it, an agent refuses a volume restored from a backup older than those heads.
   */
  secrets: Pick<SecretStore, 'writeSecret'>;
  /** How often a running restore refreshes its heartbeat, in ms. Default: a fifth of STALE_OPERATION_MS. */
  heartbeatIntervalMs?: number;
}

/** Whose the client is once a restore's step ran: still this restore's, killed meanwhile, or another operation's. */
type Ownership = 'owned' | 'killed' | 'taken-over';

export interface RestoreRequest {
  clientId: unknown;
  backupId: unknown;
  actor: string;
  /** Extra non-secret environment of the new agent container (as for provisioning; tests point it at emulators). */
  agentEnvironment?: Record<string, string>;
}

export interface RestoreResult {
  clientId: ClientId;
  backupId: string;
  snapshot: SnapshotSummary;
  /** The agent was started with a fresh introduction (false for a killed client: restored, kept stopped). */
  started: boolean;
  chain: RestoredChain | null;
}

/**
 * Restores a client's volume from a backup. Nothing is touched until the whole backup decrypted and
 * proved a usable snapshot (a corrupt, truncated, foreign-client or wrong-key backup is refused first).
 * The agent is stopped, then the snapshot is staged inside the volume beside the live data and swapped in
 * by a journaled helper, so an interruption at any step leaves the previous content (a later restore or
 * `recover` rolls an interrupted swap back). The agent then starts in a fresh container with a new secret
 * introduction, and its audit chain is checked against the checkpoint the orchestrator kept outside it.
 */
export class RestoreClientService {
  private readonly deps: RestoreDependencies;

  constructor(deps: RestoreDependencies) {
    this.deps = deps;
  }

  async restore(request: RestoreRequest): Promise<RestoreResult> {
    const clientId = parseClientId(request.clientId);
    const backupId = parseBackupId(request.backupId);
    return this.deps.guard.exclusive(clientId, 'restore', () => this.restoreNow(clientId, backupId, request));
  }

  private async restoreNow(clientId: ClientId, backupId: string, request: RestoreRequest): Promise<RestoreResult> {
    const { registry, backups, clock } = this.deps;
    const client = await registry.getClient(clientId);
    if (!client) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    if (!RESTORABLE.includes(client.status)) throw new FleetError('conflict', `${clientId} is ${client.status}: only an active, killed or failed client can be restored`);
    // Refused here, before anything is touched: the whole backup decrypts and is a usable snapshot.
    await backups.verify(clientId, backupId);
    const snapshot = await inspectVolumeSnapshot((await backups.open(clientId, backupId)).plaintext);
    // 'provisioning' keeps the reconciler's hands off until the restored agent runs. The restore's own
    // operation id and heartbeat make it the client's owner: another orchestrator's provisioning, erasure or
    // deprovision does not take it over as abandoned while it runs.
    const operationId = randomUUID();
    if (!(await registry.claim(clientId, operationId, { from: [client.status], to: 'provisioning', reason: `restoring ${backupId}` }, clock.now(), STALE_OPERATION_MS))) {
      throw new FleetError('busy', `${clientId} changed state; try again`);
    }
    return withOperationHeartbeat(this.deps, { clientId, operationId, step: 'restoring' }, () => this.restoreClaimed(client, operationId, backupId, snapshot, request));
  }

  private async restoreClaimed(client: ClientRecord, operationId: string, backupId: string, snapshot: SnapshotSummary, request: RestoreRequest): Promise<RestoreResult> {
    const { registry, clock } = this.deps;
    const clientId = client.id;
    let result: RestoreResult;
    try {
      result = await this.swapIn(client, operationId, backupId, snapshot, request.agentEnvironment ?? {});
    } catch (error) {
      // Only this restore's 'provisioning': a kill that came meanwhile keeps the client killed, with its own
      // reason, and an operation that took the client over keeps it.
      await registry.transition(clientId, ['provisioning'], client.status, `restore of ${backupId} failed`, clock.now(), { operationId });
      await registry
        .appendOpsLog({ actor: request.actor, action: 'restore', clientId, reason: null, outcome: 'failed', details: { backupId, error: (error as Error).message } })
        .catch(() => undefined);
      throw error;
    }
    // An agent this restore started and introduced is active, whatever the client was before (a failed client
    // left 'failed' would run unwatched: the reconciler neither scrapes nor restarts a failed client's agent).
    const settled: ClientStatus = result.started ? 'active' : client.status;
    if (!(await registry.transition(clientId, ['provisioning'], settled, null, clock.now(), { operationId }))) {
      // The kill switch never waits for a restore: it came while this one ran. The agent this restore may
      // have started (with an introduction after the kill's revocation) stops, and its flag is put back.
      // A client another operation took over (a revive after that kill) is that operation's to run.
      const taken = (await this.ownership(clientId, operationId).catch(() => 'killed' as const)) === 'taken-over';
      if (!taken) await this.containKilled(clientId, backupId);
      const error = new FleetError(
        'conflict',
        taken
          ? `${clientId} was taken over by another operation while it was being restored from ${backupId} (the backup is in its volume)`
          : `${clientId} was killed while it was being restored from ${backupId}; it stays killed (the backup is in its volume)`,
      );
      await registry
        .appendOpsLog({ actor: request.actor, action: 'restore', clientId, reason: null, outcome: 'failed', details: { backupId, error: error.message } })
        .catch(() => undefined);
      throw error;
    }
    await registry.appendOpsLog({
      actor: request.actor,
      action: 'restore',
      clientId,
      reason: null,
      // A broken or forked chain, or records the checkpoint proves lost, must stand out in the ops log.
      outcome: result.chain === null || (result.chain.ok && result.chain.missingRecords === 0) ? 'success' : 'partial',
      details: { backupId, files: snapshot.files, bytes: snapshot.bytes, started: result.started, chain: result.chain },
    });
    this.deps.logger.warn('client restored from a backup', { client: clientId, backupId, missingRecords: result.chain?.missingRecords ?? null });
    return result;
  }

  private async swapIn(client: ClientRecord, operationId: string, backupId: string, snapshot: SnapshotSummary, environment: Record<string, string>): Promise<RestoreResult> {
    const { runtime, backups, config } = this.deps;
    const clientId = client.id;
    const { image, user } = config.agent;
    const staging = `.restore-staging-${backupId.toLowerCase()}-${randomBytes(3).toString('hex')}`;
    await runtime.ensureVolume(clientId);
    await runtime.volumes.recover(clientId, image, user);
    const wasRunning = (await runtime.inspectAgent(clientId))?.running === true;
    let swapped = false;
    let restoredAt = this.deps.clock.now();
    try {
      const opened = await backups.open(clientId, backupId);
      // A backup taken while the client was killed holds the kill flag the agent wrote. Restored for a client
      // that was revived since, it would start an agent killed at once while the registry says active, and
      // which `fleet revive` refuses (the client is not killed). A killed client's flag is put back below.
      const content = client.status === 'killed' ? opened.plaintext : snapshotWithout(opened.plaintext, new Set([KILL_FLAG_FILE]));
      // Stopped before the backup lands in its volume: an agent still running (maybe the compromised one the
      // restore is for) could rewrite the staged tree before it is swapped in.
      await runtime.stopAgent(clientId, 10);
      await runtime.volumes.stage(clientId, image, staging, content);
      // The stopped agent recorded its last heads; the backup is older, and put there on purpose.
      await this.resetJournalAnchor(clientId, backupId);
      await runtime.volumes.swap(clientId, image, user, staging);
      swapped = true;
      restoredAt = this.deps.clock.now();
    } catch (error) {
      await runtime.volumes.recover(clientId, image, user).catch((recoverError: unknown) => this.deps.logger.error('rolling back a restore failed', { client: clientId, error: recoverError }));
      // An agent a kill stopped meanwhile stays stopped (the kill wins), as does one another operation now owns.
      const owned = wasRunning && (await this.ownership(clientId, operationId).catch(() => 'killed' as const)) === 'owned';
      if (owned) await this.startIntroduced(clientId).catch((startError: unknown) => this.deps.logger.error('restarting the agent after a failed restore failed', { client: clientId, error: startError }));
      throw error;
    } finally {
      if (!swapped) this.deps.logger.warn('restore stopped before the swap; the previous volume content is kept', { client: clientId, backupId });
    }
    const ownership = await this.ownership(clientId, operationId);
    if (ownership === 'taken-over') {
      throw new FleetError('conflict', `${clientId} was taken over by another operation while it was being restored from ${backupId} (the backup is in its volume)`);
    }
    if (client.status === 'killed' || ownership === 'killed') {
      // Restored, but the kill switch stays engaged: the agent starts again only through `fleet revive`.
      // The backup may predate the kill: without the flag the restored volume would hold an agent free to run.
      await this.placeKillFlag(clientId, backupId);
      return { clientId, backupId, snapshot, started: false, chain: null };
    }
    await runtime.removeAgent(clientId);
    await runtime.createAgent(agentWorkloadSpec(config, clientId, client.configYaml, { ...environment, VAULT_ADDR: await this.deps.vaultAddressFor(clientId) }));
    const control = await this.startIntroduced(clientId);
    const chain = await this.deps.verifyChain(clientId, control, restoredAt);
    return { clientId, backupId, snapshot, started: true, chain };
  }

  private async resetJournalAnchor(clientId: ClientId, backupId: string): Promise<void> {
    await resetJournalAnchor(this.deps.secrets, clientId, `restore of ${backupId}`, this.deps.clock.now());
  }

  private async placeKillFlag(clientId: ClientId, backupId: string): Promise<void> {
    const flag = killFlagContent({ at: this.deps.clock.now(), by: 'restore', reason: `restored from ${backupId} while killed` });
    await this.deps.runtime.placeFiles(clientId, { [KILL_FLAG_FILE]: flag }, this.deps.config.agent.user).catch((error: unknown) => {
      throw new FleetError('unavailable', `${clientId}: ${backupId} was swapped in, but the kill flag could not be placed in it (${(error as Error).message}); the client stays killed in the registry and its agent stopped: run the restore again`, { cause: error, retryable: true });
    });
  }

  /** Whether the client is still this restore's, or a kill came (the kill keeps the operation id), or another operation claimed it. */
  private async ownership(clientId: ClientId, operationId: string): Promise<Ownership> {
    const record = await this.deps.registry.getClient(clientId);
    if (record !== null && record.operationId !== operationId) return 'taken-over';
    return record?.status === 'provisioning' ? 'owned' : 'killed';
  }

  /** A kill came during the restore: what the restore started is stopped, flagged and no longer scraped. */
  private async containKilled(clientId: ClientId, backupId: string): Promise<void> {
    const { runtime, targets, logger } = this.deps;
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['stop the agent', () => runtime.stopAgent(clientId, 0)],
      ['place the kill flag', () => this.placeKillFlag(clientId, backupId)],
      ['remove the scrape target', () => targets.unregister(clientId)],
    ];
    for (const [what, step] of steps) {
      await step().catch((error: unknown) => logger.error(`a restore interrupted by a kill could not ${what}`, { client: clientId, error }));
    }
  }

  /** Starts the agent's container, introduces it afresh and registers its scrape target; returns its control address. */
  private async startIntroduced(clientId: ClientId): Promise<string> {
    const { runtime, config } = this.deps;
    await runtime.startAgent(clientId);
    const state = await waitForAgentHealth(runtime, this.deps.health, clientId, config.agent.healthTimeoutMs);
    await this.deps.introduce(clientId, state.endpoints.control);
    await this.deps.targets.register({ clientId, address: state.endpoints.metrics });
    return state.endpoints.control;
  }
}
