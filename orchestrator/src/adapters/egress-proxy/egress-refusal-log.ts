import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EgressRefusal } from '../../domain/egress-allow-list.ts';

/** One refused request: who, where to, when and why. Never a byte of payload, never a header. */
export interface EgressRefusalEntry {
  at: string;
  /** The client the request came from, or `unknown` when its source is on no client network. */
  client: string;
  /** The requested host and port, when the request named them parseably. */
  host: string | null;
  port: number | null;
  reason: EgressRefusal;
  /** The peer address the request came from. */
  source: string;
}

/**
 * The egress proxy's audit trail of refusals: JSON lines in a file only the orchestrator's user can read,
 * rotated to `<file>.1` past `maxBytes` so a flood of refusals cannot fill the disk. Refusals are not
 * admin actions, so they stay out of the hash-chained ops log; the counter in /metrics pages.
 */
export class EgressRefusalLog {
  readonly file: string;
  readonly #maxBytes: number;
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string, maxBytes = 10 * 1024 * 1024) {
    this.file = file;
    this.#maxBytes = maxBytes;
  }

  /** Appends one entry; writes are chained so lines never interleave. */
  append(entry: EgressRefusalEntry): Promise<void> {
    const next = this.#writing.then(() => this.#write(`${JSON.stringify(entry)}\n`));
    this.#writing = next.catch(() => undefined);
    return next;
  }

  async #write(line: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const size = await stat(this.file).then((info) => info.size, () => 0);
    if (size + line.length > this.#maxBytes && size > 0) await rename(this.file, `${this.file}.1`);
    await appendFile(this.file, line, { mode: 0o600 });
  }
}
