import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { writeExportArchive, type WriteExportOptions } from './export-archive-writer.ts';
import type { ExportManifest } from './export-manifest.ts';

function alreadyExists(path: string): FleetError {
  return new FleetError('conflict', `${path} already exists: choose another file name`);
}

/**
 * Writes an export archive to `path` (mode 0600): into a temp file beside it, fsynced, then linked to
 * `path`, so `path` holds a complete, signed archive or nothing. Never replaces an existing file.
 */
export async function writeExportArchiveToFile(
  path: string,
  options: WriteExportOptions,
): Promise<ExportManifest> {
  if (
    await access(path).then(
      () => true,
      () => false,
    )
  )
    throw alreadyExists(path);
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.tmp-${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    let manifest: ExportManifest;
    try {
      // flush: fsync before the stream closes the handle.
      manifest = await writeExportArchive(options, handle.createWriteStream({ flush: true }));
    } finally {
      await handle.close();
    }
    await link(temporary, path).catch((error: unknown) => {
      throw (error as NodeJS.ErrnoException).code === 'EEXIST' ? alreadyExists(path) : error;
    });
    await syncDirectory(directory);
    return manifest;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}
