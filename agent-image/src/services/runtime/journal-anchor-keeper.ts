import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { type AnchoredHeads, type JournalHead } from '@agent-fleet/kernel/journal-anchor';
import type { Logger } from '@agent-fleet/kernel/logger';
import { SerialQueue } from '@agent-fleet/kernel/serial-queue';
import type { SecretSourceAnchorStore } from './journal-anchor-store.ts';

/** A journal whose durable head the keeper records (the audit log, or an encrypted journal's file). */
export interface AnchoredJournal {
  name: string;
  /** The journal's durable head now; null while it is empty. */
  head(): Promise<JournalHead | null>;
}

export interface JournalAnchorKeeperOptions {
  store: Pick<SecretSourceAnchorStore, 'write'>;
  journals: readonly AnchoredJournal[];
  /**
   * How often the heads are compared with the last recorded ones and, when they moved, written (one
   * Vault write at most per interval, none while nothing moves), ms. Default 5000. A crash can lose
   * only what was appended within about this long from the anchor; a clean stop loses nothing.
   */
  intervalMs?: number;
  /** Longest wait between attempts while writes fail, ms. Default 60 000. */
  maxBackoffMs?: number;
  /** How long writes may keep failing before it is logged as an error, ms. Default 60 000. */
  errorAfterMs?: number;
  now: () => Date;
  logger: Logger;
}

/**
 * Records the volume's journal heads outside it, in batches: at each interval when any head moved, at
 * open, and at close. A failed write is retried with backoff (the heads are kept; nothing is lost but
 * the window grows), warned at once, logged as an error once failures outlast `errorAfterMs`, and told
 * when it recovers. While a kill has the token revoked it keeps trying quietly: a revival's new token
 * takes over. A recorded head only moves forward: a journal found behind it (rolled back under the
 * running agent) keeps it, and is logged as an error and listed in `rolledBack`.
 */
export class JournalAnchorKeeper {
  private readonly options: JournalAnchorKeeperOptions;
  private readonly intervalMs: number;
  private recorded: string | null = null;
  /** The heads last written, by journal: an anchor only ever moves forward from them. */
  private floor: Record<string, JournalHead> = {};
  /** Journals found behind their recorded head, each reported once. */
  private readonly wentBack = new Set<string>();
  private readonly writes = new SerialQueue();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private failingSince: Date | null = null;
  private reportedError = false;
  private backoffMs: number;

  constructor(options: JournalAnchorKeeperOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? 5000;
    this.backoffMs = this.intervalMs;
  }

  /** Since when writes have been failing (the window is open since then), or null. */
  get failingFrom(): Date | null {
    return this.failingSince;
  }

  /**
   * Writes the current heads now if they moved since the last write, after any write in flight (writes
   * never overtake each other). Throws the write's error.
   */
  flush(): Promise<void> {
    return this.writes.run(() => this.writeIfMoved());
  }

  /** Starts the periodic writes. */
  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.arm(this.intervalMs);
  }

  /**
   * Stops the periodic writes and records the final heads. A last write that fails is logged, not thrown:
   * the agent is stopping either way, and the volume is then ahead of its anchor, which the next open
   * accepts (only a volume behind it is refused). A revoked token (a kill) cannot write at all.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } catch (error) {
      if (error instanceof FleetError && error.code === 'killed') return;
      this.options.logger.error('the last journal heads could not be recorded in Vault at stop: a rollback of what was appended since the last record would go unnoticed', {
        error,
        failingSince: this.failingSince?.toISOString() ?? null,
      });
    }
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let next = this.intervalMs;
    try {
      await this.flush();
      this.recovered();
      this.backoffMs = this.intervalMs;
    } catch (error) {
      if (error instanceof FleetError && error.code === 'killed') {
        // A kill revoked the token: nothing is written until a revival introduces a new one (the store
        // asks for the current secret source each time), so keep trying, slowly and quietly.
        next = this.options.maxBackoffMs ?? 60_000;
      } else {
        this.failed(error);
        next = this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 60_000);
      }
    }
    if (!this.stopped) this.arm(next);
  }

  /** Journals whose head went behind the one recorded for them while the agent ran (a rollback under it). */
  get rolledBack(): readonly string[] {
    return [...this.wentBack];
  }

  private async writeIfMoved(): Promise<void> {
    const heads: Record<string, JournalHead> = {};
    for (const journal of this.options.journals) {
      const head = await journal.head();
      const recorded = this.floor[journal.name];
      if (recorded !== undefined && !isAtOrAfter(head, recorded)) {
        // The agent's journals only grow (a compaction numbers on from the head it replaced), so a head
        // that went back, or vanished, was put back under the running agent. Recording it would make the
        // next open accept the rollback; the recorded head is kept so that open refuses the volume.
        heads[journal.name] = recorded;
        this.reportWentBack(journal.name, recorded, head);
        continue;
      }
      if (head !== null) heads[journal.name] = head;
    }
    const key = JSON.stringify(heads);
    if (key === this.recorded) return;
    await this.options.store.write(heads as AnchoredHeads, this.options.now());
    this.recorded = key;
    this.floor = heads;
  }

  private reportWentBack(name: string, recorded: JournalHead, found: JournalHead | null): void {
    if (this.wentBack.has(name)) return;
    this.wentBack.add(name);
    const now = found === null ? 'it is now empty or missing' : found.seq < recorded.seq ? `it now ends at event ${found.seq}` : `its event ${found.seq} is now another one`;
    this.options.logger.error(
      `the ${name} journal went back while the agent ran: event ${recorded.seq} was recorded in Vault, but ${now}. The recorded head is kept, so the next open refuses the volume`,
      { journal: name, recorded, found },
    );
  }

  private failed(error: unknown): void {
    const now = this.options.now();
    if (this.failingSince === null) {
      this.failingSince = now;
      this.options.logger.warn('recording the journal heads in Vault failed; retrying', { error });
      return;
    }
    const failingMs = now.getTime() - this.failingSince.getTime();
    if (!this.reportedError && failingMs >= (this.options.errorAfterMs ?? 60_000)) {
      this.reportedError = true;
      this.options.logger.error(
        'the journal heads have not been recorded in Vault for a while: a rollback of the volume since then would go unnoticed; still retrying',
        { error, failingSince: this.failingSince.toISOString() },
      );
    }
  }

  private recovered(): void {
    if (this.failingSince === null) return;
    this.options.logger.info('the journal heads are recorded in Vault again', { failingSince: this.failingSince.toISOString() });
    this.failingSince = null;
    this.reportedError = false;
  }
}

/** Whether `head` is `recorded` or a later event (a head never changes at a seq it already reached). */
function isAtOrAfter(head: JournalHead | null, recorded: JournalHead): boolean {
  if (head === null) return false;
  return head.seq > recorded.seq || (head.seq === recorded.seq && head.hash === recorded.hash);
}
