import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { BackupInfo, BackupStore } from '../../ports/backup-store.ts';
import type { Clock } from '../../ports/clock.ts';
import type { KeyWrapper } from '../../ports/key-wrapper.ts';
import { newBackupId } from './backup-id.ts';
import { DEFAULT_RETENTION, planRetention, type RetentionPolicy } from './backup-retention.ts';
import { openBackup, sealBackup, type OpenedBackup } from './backup-stream.ts';

export interface BackupServiceOptions {
  store: BackupStore;
  keys: KeyWrapper;
  clock: Clock;
  logger: Logger;
  retention?: RetentionPolicy;
  /** Plaintext bytes per authenticated chunk (default 64 KiB). */
  chunkBytes?: number;
}

export interface VerifiedBackup {
  info: BackupInfo;
  contentType: string;
  plaintextBytes: number;
}

/**
 * Encrypted backups of a client's data: takes a plaintext stream (the volume snapshot), stores it
 * envelope-encrypted under the client's key, opens and verifies it, and applies the retention policy.
 */
export class BackupService {
  private readonly options: BackupServiceOptions;
  private readonly logger: Logger;

  constructor(options: BackupServiceOptions) {
    this.options = options;
    this.logger = options.logger.child({ component: 'backup-service' });
  }

  /** Encrypts and stores a snapshot; nothing is stored if the stream or the key wrap fails. */
  async create(
    clientId: ClientId,
    snapshot: AsyncIterable<Uint8Array | string>,
    contentType = 'application/x-tar',
  ): Promise<BackupInfo> {
    const createdAt = this.options.clock.now();
    const backupId = newBackupId(createdAt);
    const sealed = sealBackup(snapshot, {
      clientId,
      backupId,
      createdAt,
      contentType,
      keys: this.options.keys,
      ...(this.options.chunkBytes === undefined ? {} : { chunkBytes: this.options.chunkBytes }),
    });
    const info = await this.options.store.put(clientId, backupId, sealed);
    this.logger.info('backup created', { client: clientId, backupId, bytes: info.sizeBytes });
    return info;
  }

  list(clientId: ClientId): Promise<BackupInfo[]> {
    return this.options.store.list(clientId);
  }

  /** Opens a stored backup (see `openBackup` for what is refused before any content is read). */
  async open(clientId: ClientId, backupId: string): Promise<OpenedBackup> {
    const stream = await this.options.store.get(clientId, backupId);
    try {
      return await openBackup(stream, { clientId, backupId }, this.options.keys);
    } catch (error) {
      stream.destroy();
      throw error;
    }
  }

  /** Reads a whole backup and checks every chunk, keeping nothing: what a restore does before it acts. */
  async verify(clientId: ClientId, backupId: string): Promise<VerifiedBackup> {
    const info = (await this.list(clientId)).find((backup) => backup.backupId === backupId);
    if (!info) throw new FleetError('not_found', `client ${clientId} has no backup ${backupId}`);
    const opened = await this.open(clientId, backupId);
    let plaintextBytes = 0;
    for await (const chunk of opened.plaintext) plaintextBytes += chunk.length;
    return { info, contentType: opened.header.contentType, plaintextBytes };
  }

  /**
   * Deletes the backups the retention policy no longer keeps; returns what was kept, deleted, and left
   * alone as unreadable. Only a backup whose header authenticates as this client's, under the id its file
   * name gives, takes a retention slot or is deleted: a file put in the client's directory by hand (another
   * client's backup, a renamed or damaged one) would otherwise count as that day's newest backup and push a
   * good backup out. Unreadable files are never deleted here (the erasure removes them with the rest).
   */
  async prune(clientId: ClientId): Promise<{ kept: BackupInfo[]; deleted: BackupInfo[]; unreadable: BackupInfo[] }> {
    const readable: BackupInfo[] = [];
    const unreadable: BackupInfo[] = [];
    for (const backup of await this.list(clientId)) {
      const state = await this.headerState(clientId, backup.backupId);
      if (state === 'readable') readable.push(backup);
      else if (state === 'unreadable') unreadable.push(backup);
    }
    const plan = planRetention(readable, this.options.retention ?? DEFAULT_RETENTION, this.options.clock.now());
    const deleted: BackupInfo[] = [];
    for (const backup of plan.remove) {
      if (await this.options.store.delete(clientId, backup.backupId)) deleted.push(backup);
    }
    if (deleted.length > 0)
      this.logger.info('backups pruned', { client: clientId, deleted: deleted.map((b) => b.backupId) });
    if (unreadable.length > 0)
      this.logger.error('backups that are not this client\'s or cannot be read were left out of the retention', { client: clientId, backups: unreadable.map((b) => b.backupId) });
    return { kept: plan.keep, deleted, unreadable };
  }

  /** Whether a stored backup's header authenticates for the client; other failures (the key store down) throw. */
  private async headerState(clientId: ClientId, backupId: string): Promise<'readable' | 'unreadable' | 'gone'> {
    try {
      await (await this.open(clientId, backupId)).close();
      return 'readable';
    } catch (error) {
      if (isFleetError(error) && error.code === 'integrity') return 'unreadable';
      if (isFleetError(error) && error.code === 'not_found') return 'gone';
      throw error;
    }
  }

  /** Deletes every backup of a client (closure or erasure). */
  async deleteAll(clientId: ClientId): Promise<number> {
    const deleted = await this.options.store.deleteAll(clientId);
    this.logger.info('client backups deleted', { client: clientId, deleted });
    return deleted;
  }
}
