import { appendFile, mkdir, readFile, rename, stat } from 'node:fs/promises';
import { writeFileAtomically } from '@agent-fleet/kernel/atomic-file';
import path from 'node:path';
import type { EgressRefusal, EgressUpstreamFailure } from '../../domain/egress-allow-list.ts';
import { RefusalLogBudget } from './refusal-log-budget.ts';

/**
 * One refused request, or one allowed request whose host was never reached (reason `unreachable` or
 * `timeout`): who, where to, when and why. Never a byte of payload, never a header.
 */
export interface EgressRefusalEntry {
  at: string;
  /** The client the request came from, or `unknown` when its source is on no client network. */
  client: string;
  /** The requested host and port, when the request named them parseably. */
  host: string | null;
  port: number | null;
  reason: EgressRefusal | EgressUpstreamFailure;
  /** The peer address the request came from. */
  source: string;
  /** On a line written after the client went over its budget: how many of its lines of the same budget (refusals, or failures) were left out before it. */
  suppressed?: number;
}

export interface EgressRefusalLogLimits {
  /** Size in bytes past which the file is rotated to `<file>.1`. Default 10 MiB. */
  maxBytes: number;
  /** Lines of refusals per client per window; more are counted, not written. Default 100. */
  perClientPerWindow: number;
  /**
   * Lines per client per window for requests whose host was not reached; more are counted, not
   * written. Default 10: an outage of a provider host fails every client's requests at once, and must not
   * rotate the fleet's refusals out of the log.
   */
  upstreamFailuresPerClientPerWindow: number;
  /** Length of that window in milliseconds. Default 60 000. */
  windowMs: number;
}

const UPSTREAM_FAILURES = new Set<string>(['unreachable', 'timeout'] satisfies EgressUpstreamFailure[]);

/**
 * The egress proxy's audit trail of refusals (and of allowed requests whose host was not reached, each kind
 * within a budget of its own): JSON lines in a file only the orchestrator's user can read,
 * rotated to `<file>.1` past `maxBytes` so a flood of refusals cannot fill the disk, and written within a
 * budget per client so a flood cannot rotate its own first lines away either. Refusals are not admin
 * actions, so they stay out of the hash-chained ops log; the counter in /metrics pages.
 */
export class EgressRefusalLog {
  readonly file: string;
  readonly #maxBytes: number;
  readonly #budget: RefusalLogBudget;
  /** The budget of upstream failures (`suppressed` on their lines counts failures left out, on others refusals). */
  readonly #failureBudget: RefusalLogBudget;
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string, limits: Partial<EgressRefusalLogLimits> = {}) {
    this.file = file;
    this.#maxBytes = limits.maxBytes ?? 10 * 1024 * 1024;
    const windowMs = limits.windowMs ?? 60_000;
    this.#budget = new RefusalLogBudget(limits.perClientPerWindow ?? 100, windowMs);
    this.#failureBudget = new RefusalLogBudget(limits.upstreamFailuresPerClientPerWindow ?? 10, windowMs);
  }

  /** Appends one entry, unless its client is over budget; writes are chained so lines never interleave. */
  append(entry: EgressRefusalEntry): Promise<void> {
    const parsed = Date.parse(entry.at);
    const at = Number.isNaN(parsed) ? Date.now() : parsed;
    // Failures have a budget of their own, so that they never crowd refusals out (nor refusals them).
    const budget = UPSTREAM_FAILURES.has(entry.reason) ? this.#failureBudget : this.#budget;
    const admission = budget.admit(entry.client, at);
    if (!admission.write) return Promise.resolve();
    const line = admission.suppressed > 0 ? { ...entry, suppressed: admission.suppressed } : entry;
    const next = this.#writing.then(() => this.#write(`${JSON.stringify(line)}\n`));
    this.#writing = next.catch(() => undefined);
    return next;
  }

  /**
   * Removes every line of `client` from the log and its rotated file (an erasure): in turn with the
   * appends, so none is lost. Returns how many lines went. Lines that do not parse are kept.
   */
  forgetClient(client: string): Promise<number> {
    const next = this.#writing.then(async () => {
      this.#budget.forget(client);
      this.#failureBudget.forget(client);
      let removed = 0;
      for (const file of [this.file, `${this.file}.1`]) removed += await withoutClient(file, client);
      return removed;
    });
    this.#writing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  async #write(line: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const size = await stat(this.file).then((info) => info.size, () => 0);
    if (size + line.length > this.#maxBytes && size > 0) await rename(this.file, `${this.file}.1`);
    await appendFile(this.file, line, { mode: 0o600 });
  }
}

/** Rewrites `file` without the lines of `client`; returns how many went (0 for a missing file). */
async function withoutClient(file: string, client: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return 0;
  const lines = text.split('\n').filter((line) => line !== '');
  const kept = lines.filter((line) => clientOf(line) !== client);
  if (kept.length === lines.length) return 0;
  await writeFileAtomically(file, kept.length === 0 ? '' : `${kept.join('\n')}\n`, { mode: 0o600 });
  return lines.length - kept.length;
}

function clientOf(line: string): string | null {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && typeof (value as { client?: unknown }).client === 'string' ? (value as { client: string }).client : null;
  } catch {
    return null;
  }
}
