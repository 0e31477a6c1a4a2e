import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDirectory } from '@agent-fleet/kernel/atomic-file';
import { parseClientId, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { BackupInfo, BackupStore } from '../../ports/backup-store.ts';
import { backupIdTime, parseBackupId } from '../../services/backup/backup-id.ts';

const SUFFIX = '.afbk';
const TEMP_MARKER = '.tmp-';

export interface DirectoryBackupStoreOptions {
  /** Root of the backups: `<root>/<client id>/<backup id>.afbk`, directories 0700, files 0600. */
  root: string;
  logger: Logger;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/**
 * BackupStore over a local directory (the embedded default). A backup is written to a private temp file,
 * fsynced, then hard-linked to its final name (which fails rather than replaces when the name exists) and
 * the directory fsynced: readers see a whole backup or nothing, and a crash leaves at most a temp file.
 */
export class DirectoryBackupStore implements BackupStore {
  private readonly root: string;
  private readonly logger: Logger;

  constructor(options: DirectoryBackupStoreOptions) {
    this.root = options.root;
    this.logger = options.logger.child({ component: 'directory-backup-store' });
  }

  private clientDir(clientId: ClientId): string {
    return join(this.root, parseClientId(clientId));
  }

  private backupPath(clientId: ClientId, backupId: string): string {
    return join(this.clientDir(clientId), `${parseBackupId(backupId)}${SUFFIX}`);
  }

  async put(clientId: ClientId, backupId: string, content: AsyncIterable<Uint8Array>): Promise<BackupInfo> {
    const path = this.backupPath(clientId, backupId);
    const directory = this.clientDir(clientId);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const temporary = join(directory, `.${backupId}${SUFFIX}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      try {
        // flush: fsync before the stream closes the handle.
        await pipeline(content, handle.createWriteStream({ flush: true }));
      } finally {
        await handle.close();
      }
      await link(temporary, path).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          throw new FleetError('conflict', `client ${clientId} already has a backup ${backupId}`);
        throw error;
      });
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    await syncDirectory(directory);
    const info = await this.describe(clientId, backupId, path);
    this.logger.debug('backup stored', { client: clientId, backupId, bytes: info.sizeBytes });
    return info;
  }

  private async describe(clientId: ClientId, backupId: string, path: string): Promise<BackupInfo> {
    const time = backupIdTime(backupId);
    return {
      clientId,
      backupId,
      createdAt: time ? time.toISOString() : '',
      sizeBytes: (await stat(path)).size,
    };
  }

  private async entries(clientId: ClientId): Promise<string[]> {
    try {
      return await readdir(this.clientDir(clientId));
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  async list(clientId: ClientId): Promise<BackupInfo[]> {
    const backups: BackupInfo[] = [];
    for (const name of (await this.entries(clientId)).sort()) {
      if (!name.endsWith(SUFFIX)) continue;
      const backupId = name.slice(0, -SUFFIX.length);
      if (backupIdTime(backupId) === null) continue;
      try {
        backups.push(await this.describe(clientId, backupId, join(this.clientDir(clientId), name)));
      } catch (error) {
        // Deleted between readdir and stat: no longer listed.
        if (!isMissing(error)) throw error;
      }
    }
    return backups;
  }

  async get(clientId: ClientId, backupId: string): Promise<Readable> {
    try {
      const handle = await open(this.backupPath(clientId, backupId), 'r');
      return handle.createReadStream();
    } catch (error) {
      if (isMissing(error)) throw new FleetError('not_found', `client ${clientId} has no backup ${backupId}`);
      throw error;
    }
  }

  async delete(clientId: ClientId, backupId: string): Promise<boolean> {
    try {
      await unlink(this.backupPath(clientId, backupId));
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await syncDirectory(this.clientDir(clientId));
    return true;
  }

  async deleteAll(clientId: ClientId): Promise<number> {
    const directory = this.clientDir(clientId);
    let deleted = 0;
    for (const name of await this.entries(clientId)) {
      try {
        await unlink(join(directory, name));
        if (name.endsWith(SUFFIX) && !name.startsWith('.')) deleted++;
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    try {
      await rmdir(directory);
      await syncDirectory(this.root);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    this.logger.debug('client backups deleted', { client: clientId, deleted });
    return deleted;
  }
}
