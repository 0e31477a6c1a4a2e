import { lstat, mkdir } from 'node:fs/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * Checks a directory of the volume that holds journals. The volume is untrusted, and opening its files with
 * O_NOFOLLOW guards only their last path component: a directory planted as a symbolic link would have
 * the agent read, append to, cut back and delete files outside the volume. Such a link, or a file where
 * the directory should be, is FleetError('integrity'). False when nothing is there.
 */
export async function journalDirectoryExists(directory: string): Promise<boolean> {
  let info;
  try {
    info = await lstat(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (info.isSymbolicLink()) throw new FleetError('integrity', `the journal directory ${directory} is a symbolic link; the agent uses only directories of its own volume`);
  if (!info.isDirectory()) throw new FleetError('integrity', `the journal directory ${directory} is not a directory`);
  return true;
}

/** Creates a journal directory (0700) when missing; a linked or non-directory one is refused (see above). */
export async function ensureJournalDirectory(directory: string): Promise<void> {
  // Checked before mkdir as well: a recursive mkdir follows a link silently, and fails unclearly on a file.
  if (await journalDirectoryExists(directory)) return;
  await mkdir(directory, { recursive: true, mode: 0o700 });
  if (!(await journalDirectoryExists(directory))) throw new FleetError('unavailable', `the journal directory ${directory} went away as it was created`);
}
