import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';

/** Reads the wrapped data key (a transit ciphertext), or null when none was stored yet. */
export async function readWrappedKey(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Stores the wrapped data key atomically (temp file 0600, fsync, rename, directory fsync). */
export async function writeWrappedKey(path: string, ciphertext: string): Promise<void> {
  await writeFileAtomically(path, `${ciphertext}\n`);
}
