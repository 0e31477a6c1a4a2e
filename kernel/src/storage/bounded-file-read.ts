import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FleetError } from '../domain/fleet-error.ts';

// Files placed for a process (a Vault token, a CA, a TLS identity, a sealed config) arrive as links in a
// Kubernetes Secret or ConfigMap mount or as files in a volume, so links are followed; what they lead to
// must be a regular file of bounded size, or a FIFO would hang the reader and /dev/zero flood it.

export interface BoundedReadOptions {
  /** The most bytes accepted; a longer file is refused rather than cut. */
  maxBytes: number;
  /** How the file is named in errors, e.g. "the Vault token file /x (VAULT_TOKEN_FILE)". Default: its path. */
  what?: string;
}

/**
 * The UTF-8 text of `file`, read no further than `maxBytes` whatever stat says: opened without blocking (a
 * FIFO cannot hang the start) and refused as `invalid_input` when it is not a regular file, is larger or is
 * not UTF-8. A file that cannot be opened or read is `unavailable`, its errno kept on the cause.
 */
export async function readBoundedTextFile(file: string, options: BoundedReadOptions): Promise<string> {
  const what = options.what ?? file;
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new FleetError('unavailable', `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new FleetError('invalid_input', `${what} is not a regular file`);
    const bytes = await readAtMost(handle, options.maxBytes + 1, info.size + 1);
    if (bytes.length > options.maxBytes) throw new FleetError('invalid_input', `${what} is larger than ${options.maxBytes} bytes`);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      throw new FleetError('invalid_input', `${what} is not UTF-8 text`, { cause: error });
    }
  } catch (error) {
    if (error instanceof FleetError) throw error;
    throw new FleetError('unavailable', `cannot read ${what}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

/** As readBoundedTextFile, but null when no file is there: a file not placed (yet) is an answer. */
export async function readBoundedTextFileIfPresent(file: string, options: BoundedReadOptions): Promise<string | null> {
  try {
    return await readBoundedTextFile(file, options);
  } catch (error) {
    if (isMissingFile(error)) return null;
    throw error;
  }
}

/** True when `error` (or a cause) says no file was there: lets a caller wait for a file to be placed. */
export function isMissingFile(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    if ((current as NodeJS.ErrnoException).code === 'ENOENT') return true;
  }
  return false;
}

/**
 * Up to `limit` bytes from the start; one byte past the caller's bound tells "larger" from "exactly full".
 * The buffer starts at the size stat gave (plus that byte) and grows only if the file grew meanwhile: the
 * bound is a ceiling, not what every read costs (a 2 KiB token must not take a zeroed megabyte).
 */
async function readAtMost(handle: FileHandle, limit: number, expected: number): Promise<Buffer> {
  let buffer: Buffer = Buffer.alloc(Math.max(1, Math.min(limit, expected)));
  let length = 0;
  for (;;) {
    const read = (await handle.read(buffer, length, buffer.length - length, length)).bytesRead;
    length += read;
    if (read === 0 || length >= limit) break;
    if (length === buffer.length) buffer = grown(buffer, Math.min(limit, buffer.length * 2));
  }
  return buffer.subarray(0, length);
}

function grown(buffer: Buffer, size: number): Buffer {
  const larger = Buffer.alloc(size);
  buffer.copy(larger);
  return larger;
}
