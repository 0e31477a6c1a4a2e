import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rm, rmdir, unlink } from 'node:fs/promises';
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
 * Anyone able to write under the root may have put anything there: a client directory that is a
 * symbolic link (to another client's, or to any directory the orchestrator may write) is refused rather
 * than followed, and only regular files are listed, read or counted as backups, so that nothing outside a
 * client's own directory is ever read, listed or deleted as its backups, and no FIFO can hang a read.
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

  /** The client's directory, checked to be a real directory (not a link); null when it does not exist. */
  private async checkedClientDir(clientId: ClientId): Promise<string | null> {
    const directory = this.clientDir(clientId);
    let info;
    try {
      info = await lstat(directory);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!info.isDirectory())
      throw new FleetError('integrity', `the backup directory of ${clientId} is not a directory (${info.isSymbolicLink() ? 'a symbolic link' : 'another kind of file'}): refused; an operator must look at ${directory}`);
    return directory;
  }

  private backupPath(clientId: ClientId, backupId: string): string {
    return join(this.clientDir(clientId), `${parseBackupId(backupId)}${SUFFIX}`);
  }

  async put(clientId: ClientId, backupId: string, content: AsyncIterable<Uint8Array>): Promise<BackupInfo> {
    const path = this.backupPath(clientId, backupId);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await mkdir(this.clientDir(clientId), { mode: 0o700 }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    });
    const directory = (await this.checkedClientDir(clientId)) ?? this.clientDir(clientId);
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
    if (info === null) throw new FleetError('internal', `backup ${backupId} of ${clientId} is not a regular file after its write`);
    this.logger.debug('backup stored', { client: clientId, backupId, bytes: info.sizeBytes });
    return info;
  }

  private async describe(clientId: ClientId, backupId: string, path: string): Promise<BackupInfo | null> {
    const info = await lstat(path);
    if (!info.isFile()) return null;
    const time = backupIdTime(backupId);
    return {
      clientId,
      backupId,
      createdAt: time ? time.toISOString() : '',
      sizeBytes: info.size,
    };
  }

  private async entries(clientId: ClientId): Promise<string[]> {
    const directory = await this.checkedClientDir(clientId);
    if (directory === null) return [];
    try {
      return await readdir(directory);
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
        const info = await this.describe(clientId, backupId, join(this.clientDir(clientId), name));
        if (info !== null) backups.push(info);
      } catch (error) {
        // Deleted between readdir and stat: no longer listed.
        if (!isMissing(error)) throw error;
      }
    }
    return backups;
  }

  async get(clientId: ClientId, backupId: string): Promise<Readable> {
    const path = this.backupPath(clientId, backupId);
    if ((await this.checkedClientDir(clientId)) === null) throw new FleetError('not_found', `client ${clientId} has no backup ${backupId}`);
    let handle;
    try {
      // No link followed, and a FIFO put in its place opens without waiting for a writer (then refused).
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if (isMissing(error)) throw new FleetError('not_found', `client ${clientId} has no backup ${backupId}`);
      if ((error as NodeJS.ErrnoException).code === 'ELOOP')
        throw new FleetError('integrity', `backup ${backupId} of ${clientId} is a symbolic link, not a backup: refused`);
      throw error;
    }
    try {
      if (!(await handle.stat()).isFile()) throw new FleetError('integrity', `backup ${backupId} of ${clientId} is not a regular file: refused`);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return handle.createReadStream();
  }

  async delete(clientId: ClientId, backupId: string): Promise<boolean> {
    const path = this.backupPath(clientId, backupId);
    if ((await this.checkedClientDir(clientId)) === null) return false;
    try {
      await unlink(path);
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
    await syncDirectory(this.clientDir(clientId));
    return true;
  }

  async deleteAll(clientId: ClientId): Promise<number> {
    const directory = await this.checkedClientDir(clientId);
    if (directory === null) return 0;
    let deleted = 0;
    for (const name of await this.entries(clientId)) {
      const path = join(directory, name);
      let info;
      try {
        info = await lstat(path);
      } catch (error) {
        if (isMissing(error)) continue;
        throw error;
      }
      // A directory is removed with what it holds (links in it removed, never followed): erasure must
      // not stop at something an operator or intruder left here.
      await rm(path, { recursive: true, force: true });
      if (info.isFile() && name.endsWith(SUFFIX) && !name.startsWith('.')) deleted++;
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
