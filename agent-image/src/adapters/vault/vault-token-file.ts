import { open } from 'node:fs/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// Vault Agent's sink file (Kubernetes): Vault Agent writes the agent's token there and rewrites it on
// re-authentication; the agent only reads it.

const MAX_TOKEN_FILE_BYTES = 4096;
const POLL_MS = 250;

/** The one token the file holds; invalid_input when it is too large, empty or holds more than one word. */
export async function readTokenFile(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_TOKEN_FILE_BYTES) throw new FleetError('invalid_input', `the Vault token file ${file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
    const token = (await handle.readFile('utf8')).trim();
    if (token === '' || /\s/.test(token)) throw new FleetError('invalid_input', `the Vault token file ${file} does not hold one token`);
    return token;
  } finally {
    await handle.close();
  }
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
