import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, lstat, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '@agent-fleet/kernel/atomic-file';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

const alreadyExists = (out: string, cause?: unknown) => new FleetError('conflict', `${out} already exists: choose another file name`, { cause });

/**
 * The file `--out` names, checked before the service is asked for anything: `--out ""` (an unset shell
 * variable) names no file, an existing one (even a dangling link) is never replaced, and a directory that
 * is missing or not writable is named now rather than after the report was rendered.
 */
export async function checkedNewFile(out: string): Promise<string> {
  if (out.trim() === '') throw new FleetError('invalid_input', '--out names no file: give the file to write');
  const exists = await lstat(out).then(
    () => true,
    (error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new FleetError('invalid_input', `cannot write ${out}: ${(error as Error).message}`, { cause: error });
    },
  );
  if (exists) throw alreadyExists(out);
  await access(dirname(out), constants.W_OK | constants.X_OK).catch((error: unknown) => {
    throw new FleetError('invalid_input', `cannot write ${out}: ${(error as Error).message}`, { cause: error });
  });
  return out;
}

/**
 * Writes `body` as a new, owner-only file: into a private temp file beside `out`, flushed, then linked to
 * `out`, so `out` holds the whole text or does not exist (never a torn report after a full disk or a
 * crash), and a file that appeared there meanwhile is a conflict, left as it was.
 */
export async function writeNewFileAtomically(out: string, body: string): Promise<void> {
  const temporary = join(dirname(out), `.${basename(out)}.partial-${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(temporary, out);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(out, error);
    throw new FleetError('invalid_input', `cannot write ${out}: ${(error as Error).message}`, { cause: error });
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(dirname(out));
}
