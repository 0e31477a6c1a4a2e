import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

// Vault Agent's sink file (Kubernetes): Vault Agent writes the agent's token there and rewrites it on
// re-authentication; the agent only reads it.

const MAX_TOKEN_FILE_BYTES = 4096;
const POLL_MS = 250;

/**
 * The one token the file holds; invalid_input when it is not a regular file, too large, empty or holds
 * more than one word. Opened without blocking (a FIFO cannot hang the reader) and read no further than the
 * bound whatever stat says (a device such as /dev/zero reports size 0 and never ends).
 */
export async function readTokenFile(file: string): Promise<string> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new FleetError('invalid_input', `the Vault token file ${file} is not a regular file`);
    const buffer = Buffer.alloc(MAX_TOKEN_FILE_BYTES + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= MAX_TOKEN_FILE_BYTES; length += read) {
      read = (await handle.read(buffer, length, MAX_TOKEN_FILE_BYTES + 1 - length, length)).bytesRead;
    }
    if (length > MAX_TOKEN_FILE_BYTES) throw new FleetError('invalid_input', `the Vault token file ${file} is larger than ${MAX_TOKEN_FILE_BYTES} bytes`);
    const token = buffer.subarray(0, length).toString('utf8').trim();
    // A token goes into a request header: white space, control characters and non-ASCII text are never part of one.
    if (!/^[\x21-\x7e]+$/.test(token)) throw new FleetError('invalid_input', `the Vault token file ${file} does not hold one token`);
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
