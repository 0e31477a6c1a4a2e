import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { parseClientConfigYaml } from '@agent-fleet/kernel/client-config-yaml';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { ClientRecord, Registry } from '../../ports/registry.ts';
import type { SecretStore } from '../../ports/secret-store.ts';
import type { ClientOperationGuard } from '../client-operation-guard.ts';
import { CLIENT_DELETION_ACTIONS } from '../../domain/ops-log-chain.ts';
import { currentLife, ERASE_ACTION } from '../erasure/erasure-records.ts';
import type { SupportAccessService } from '../support-access.ts';
import { openAgentData, type AgentData, type AgentDataDependencies } from './agent-data.ts';
import { clientExportEntries, erasedClientEntries } from './client-export-entries.ts';
import { writeExportArchive, type ExportEntry, type ExportProgress } from './export-archive-writer.ts';
import { manifestBytes, type ExportManifest } from './export-manifest.ts';
import type { ExportSigner } from './export-signing-key.ts';
import { ExportStallWatchdog } from './export-stall-watchdog.ts';

/** Who asks: one of the client's own admins (the data is theirs), or an operator (needs a support grant). */
export type ExportRequester = { kind: 'client'; admin: string } | { kind: 'operator'; member: string };

export interface ClientExportDependencies {
  registry: Registry;
  secrets: SecretStore;
  support: Pick<SupportAccessService, 'authorize'>;
  agentData: AgentDataDependencies;
  signer: ExportSigner;
  clock: Clock;
  /** Directory for entries spooled while the archive is written (a private subdirectory per export). */
  spoolDir: string;
  logger: Logger;
  /**
   * Held for the whole export, whoever serves it. With a reader container: a killed client's policy is
   * unlocked meanwhile (no revive, which it would lock out when it locks again), a closed client's network is
   * back (no provisioning, erasure or purge), and no restore swaps the volume under the reader. With the
   * running agent too: an active client's agent may be down (crashed, or stopped by a restore, a backup or an
   * erasure that has not changed its status yet), and then a reader is started, whose start and end remove
   * the client's helper containers (a backup's snapshot, a restore's swap); and a second export would close
   * the first one's session in the agent. An erasure, restore or backup asked for meanwhile is refused as
   * busy (retryable); the kill switch never takes the guard.
   */
  guard?: Pick<ClientOperationGuard, 'exclusive'>;
  /** An export that reads and writes nothing for this long is abandoned (ExportStallWatchdog). Default 5 minutes. */
  stallTimeoutMs?: number;
}

export interface ExportRequest {
  clientId: unknown;
  requester: ExportRequester;
  onProgress?: (progress: ExportProgress) => void;
}

/**
 * The complete export of a client (right of access and portability): everything the fleet holds about
 * it, streamed as a signed tar archive (see writeExportArchive) to `output`, memory bounded whatever the
 * size. Works whether the agent runs, stopped, was killed or the client was closed (deprovisioned, its
 * volume kept for the retention period: "log export before deletion"); an erased client's export, given to
 * an operator only, is its deletion certificate and ops log. Each export is ops-logged with the manifest's
 * digest. One export per client at a time, under the client's operation guard.
 */
export class ClientExportService {
  private readonly deps: ClientExportDependencies;

  constructor(deps: ClientExportDependencies) {
    this.deps = deps;
  }

  /** The fleet's public export key, for verifying exports offline. */
  get exportKey(): { keyId: string; publicKeyPem: string } {
    return { keyId: this.deps.signer.keyId, publicKeyPem: this.deps.signer.publicKeyPem };
  }

  async export(request: ExportRequest, output: Writable): Promise<ExportManifest> {
    const clientId = parseClientId(request.clientId);
    const { guard } = this.deps;
    if (guard === undefined) return this.exportNow(clientId, request, output);
    return guard.exclusive(clientId, 'data export', () => this.exportNow(clientId, request, output));
  }

  private async exportNow(clientId: ClientId, request: ExportRequest, output: Writable): Promise<ExportManifest> {
    const { registry } = this.deps;
    const watchdog = new ExportStallWatchdog(this.deps.stallTimeoutMs ?? 300_000);
    const onStall = () => output.destroy(watchdog.signal.reason as Error);
    watchdog.signal.addEventListener('abort', onStall, { once: true });
    let agent: AgentData | null = null;
    let manifest: ExportManifest;
    try {
      let entries: ExportEntry[];
      const client = await registry.getClient(clientId);
      if (client === null) {
        entries = await this.erasedClientEntries(clientId, request.requester);
      } else {
        await this.authorize(client, request.requester);
        // Opened before the first byte, so a client whose volume cannot be read is a clean error.
        const opened = await openAgentData(this.deps.agentData, client, watchdog.signal);
        agent = opened;
        // Read after the opening, whose own entries (support access, an unlocked policy) it includes.
        const opsLog = currentLife(await registry.listOpsLog({ clientId }));
        entries = clientExportEntries({ client, secrets: await this.deps.secrets.listSecrets(clientId), opsLog, agent: () => Promise.resolve(opened) });
      }
      await mkdir(this.deps.spoolDir, { recursive: true, mode: 0o700 });
      manifest = await writeExportArchive(
        {
          clientId,
          createdAt: this.deps.clock.now(),
          entries: entries.map((entry) => ({ ...entry, open: () => watchdog.watch(entry.open()) })),
          signer: this.deps.signer,
          spoolDir: this.deps.spoolDir,
          onProgress: (progress) => {
            watchdog.touch();
            request.onProgress?.(progress);
          },
        },
        output,
      );
    } finally {
      watchdog.stop();
      watchdog.signal.removeEventListener('abort', onStall);
      await agent?.close().catch((error: unknown) => this.deps.logger.error('closing the export session failed', { client: clientId, error }));
    }
    await this.logExport(clientId, request.requester, manifest, agent?.via ?? 'tombstone');
    return manifest;
  }

  /**
   * An erased client's export: its deletion certificate and what the ops log keeps of it. Only for an
   * operator: the client's admins were erased with it, so no one can be checked as one of them.
   */
  private async erasedClientEntries(clientId: ClientId, requester: ExportRequester): Promise<ExportEntry[]> {
    const opsLog = await this.deps.registry.listOpsLog({ clientId });
    // The id may have named several clients, one after another: the export is of the last one, which must
    // have ended in an erasure (a purged client leaves nothing to export), and holds its entries only.
    const deletion = opsLog.findLastIndex((entry) => CLIENT_DELETION_ACTIONS.has(entry.action) && entry.outcome === 'success');
    const erasure = opsLog[deletion];
    if (erasure === undefined || erasure.action !== ERASE_ACTION) throw new FleetError('not_found', `no client "${clientId}" in the registry`);
    if (requester.kind !== 'operator') throw new FleetError('forbidden', `${clientId} was erased: its admins are no longer known, so its export is given to an operator only`);
    const life = [...currentLife(opsLog.slice(0, deletion)), ...opsLog.slice(deletion)];
    return erasedClientEntries(life, erasure.details['certificate'] ?? null);
  }

  private async authorize(client: ClientRecord, requester: ExportRequester): Promise<void> {
    if (requester.kind === 'operator') {
      await this.deps.support.authorize(client.id, requester.member, 'complete export');
      return;
    }
    const admins = parseClientConfigYaml(client.configYaml, `the config of ${client.id}`).admins;
    if (!admins.includes(requester.admin.trim().toLowerCase())) throw new FleetError('forbidden', `${requester.admin} is not an admin of ${client.id}`);
  }

  private async logExport(clientId: ClientId, requester: ExportRequester, manifest: ExportManifest, via: string): Promise<void> {
    await this.deps.registry.appendOpsLog({
      actor: requester.kind === 'operator' ? requester.member : `client-admin:${createHash('sha256').update(requester.admin).digest('hex').slice(0, 16)}`,
      action: 'export',
      clientId,
      reason: requester.kind === 'client' ? 'requested by a client admin' : 'operator export under a support grant',
      outcome: 'success',
      details: {
        requestedBy: requester.kind,
        via,
        files: manifest.files.length,
        bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
        manifestSha256: createHash('sha256').update(manifestBytes(manifest)).digest('hex'),
        signingKeyId: manifest.signingKeyId,
      },
    });
    this.deps.logger.info('client export written', { client: clientId, via, files: manifest.files.length });
  }
}
