import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import { readBoundedTextFileIfPresent } from '@agent-fleet/kernel/bounded-file-read';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** A transit ciphertext of a 32-byte key is about a hundred characters; a file far larger holds something else. */
export const MAX_WRAPPED_KEY_FILE_BYTES = 16 * 1024;

/**
 * Reads the wrapped data key (a transit ciphertext), or null when none was stored yet. A file that is there
 * but holds none is refused, never taken for "none yet": a new data key would orphan the volume's data.
 */
export async function readWrappedKey(path: string): Promise<string | null> {
  const what = `the wrapped data key ${path}`;
  const text = await readBoundedTextFileIfPresent(path, { maxBytes: MAX_WRAPPED_KEY_FILE_BYTES, what });
  if (text === null) return null;
  const ciphertext = text.trim();
  if (!/^[\x21-\x7e]+$/.test(ciphertext)) throw new FleetError('integrity', `${what} holds no ciphertext (empty, or more than one word)`);
  return ciphertext;
}

/** Stores the wrapped data key atomically (temp file 0600, fsync, rename, directory fsync). */
export async function writeWrappedKey(path: string, ciphertext: string): Promise<void> {
  await writeFileAtomically(path, `${ciphertext}\n`);
}
