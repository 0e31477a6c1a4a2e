import { readBoundedTextFile } from '@agent-fleet/kernel/bounded-file-read';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// Vault Agent's sink file (Kubernetes): Vault Agent writes the agent's token there and rewrites it on
// re-authentication; the agent only reads it.

const MAX_TOKEN_FILE_BYTES = 4096;
const POLL_MS = 250;

/**
 * The one token the file holds; invalid_input when it is not a regular file (after links), too large, empty
 * or holds more than one word, unavailable when it cannot be read (a missing file: isMissingFile).
 */
export async function readTokenFile(file: string): Promise<string> {
  const what = `the Vault token file ${file}`;
  const token = (await readBoundedTextFile(file, { maxBytes: MAX_TOKEN_FILE_BYTES, what })).trim();
  // A token goes into a request header: white space, control characters and non-ASCII text are never part of one.
  if (!/^[\x21-\x7e]+$/.test(token)) throw new FleetError('invalid_input', `${what} does not hold one token`);
  return token;
}

/**
 * Watches the file for up to `graceMs` until it holds a token other than `current()` (checked afresh each
 * time): the new token, or null when none came. An unreadable file counts as no new token yet.
 */
export async function awaitNewToken(file: string, current: () => string, graceMs: number): Promise<string | null> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const token = await readTokenFile(file).catch(() => null);
    if (token !== null && token !== current()) return token;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
