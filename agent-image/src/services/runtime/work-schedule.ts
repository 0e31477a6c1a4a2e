import type { Logger } from '@agent-fleet/kernel/logger';
import type { DailySummary } from '../daily-summary/daily-summary.ts';
import { nextRoundDelayMs, type RoundPacingReport } from '../mail-loop/round-pacing.ts';

export interface WorkScheduleOptions {
  logger: Logger;
  /** One round of work (see runWorkRound), with its mail pass's report when one ran. */
  round: () => Promise<RoundPacingReport | null | void>;
  /** The approval expiry sweep. */
  sweep: () => Promise<unknown>;
  /** The push watch's renewal check. */
  checkWatch: () => Promise<void>;
  /** Mailbox sync period, ms. Default 60 000; 0 disables the timer (tests call `tick`). */
  syncIntervalMs?: number | undefined;
  /** Approval expiry sweep period, ms. Default 60 000; 0 disables it. */
  sweepIntervalMs?: number | undefined;
  /** Push watch check period, ms. Default 60 000; 0 disables it. */
  watchCheckIntervalMs?: number | undefined;
  /** Schedule the daily summary. Default true. */
  scheduleSummary?: boolean | undefined;
}

const DEFAULT_PERIOD_MS = 60_000;

/**
 * When the agent works: rounds of work (one at a time: concurrent callers share the round in flight),
 * the approval sweep and watch check on their timers, and the daily summary's schedule. Each timer is
 * unref'd; a failed run is logged and tried again next period. While the timers run, a round whose mail
 * pass left a backlog waiting (see nextRoundDelayMs) is followed by the next one soon, not a period later.
 */
export class WorkSchedule {
  private readonly options: WorkScheduleOptions;
  private readonly timers: NodeJS.Timeout[] = [];
  private ticking: Promise<void> | null = null;
  private summary: DailySummary | null = null;
  private running = false;
  private soon: NodeJS.Timeout | null = null;

  constructor(options: WorkScheduleOptions) {
    this.options = options;
  }

  /** Runs a round, or joins the one in flight. */
  tick(): Promise<void> {
    this.ticking ??= this.options
      .round()
      .then((report) => this.bringForward(report ?? null))
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  /** Runs a fresh round once the one in flight (if any) is over. */
  async afterCurrent(): Promise<void> {
    await this.ticking?.catch(() => undefined);
    await this.tick();
  }

  /** Resolves when no round is in flight any more. */
  async settled(): Promise<void> {
    await this.ticking?.catch(() => undefined);
  }

  /** Starts the timers (and the summary's schedule); the first round runs at once unless syncs are off. */
  start(summary: DailySummary): void {
    const { options } = this;
    this.running = true;
    this.every(options.syncIntervalMs ?? DEFAULT_PERIOD_MS, () => this.tick());
    this.every(options.sweepIntervalMs ?? DEFAULT_PERIOD_MS, options.sweep);
    this.every(options.watchCheckIntervalMs ?? DEFAULT_PERIOD_MS, options.checkWatch);
    this.summary = summary;
    if (options.scheduleSummary !== false) summary.start();
    if (options.syncIntervalMs !== 0) setImmediate(() => void this.tick().catch(() => undefined));
  }

  /** Stops the timers and the summary's schedule; a round in flight finishes (see `settled`). */
  stop(): void {
    this.running = false;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    if (this.soon !== null) clearTimeout(this.soon);
    this.soon = null;
    this.summary?.stop();
  }

  /** One early round at most is pending; the periodic one still comes, and joins it if it is running. */
  private bringForward(report: RoundPacingReport | null): void {
    const periodMs = this.options.syncIntervalMs ?? DEFAULT_PERIOD_MS;
    if (!this.running || report === null || periodMs <= 0 || this.soon !== null) return;
    const delayMs = nextRoundDelayMs(report, periodMs);
    if (delayMs >= periodMs) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.tick().catch((error: unknown) => this.options.logger.error('periodic task failed', { error }));
    }, delayMs);
    this.soon.unref();
  }

  private every(periodMs: number, task: () => Promise<unknown>): void {
    if (periodMs <= 0) return;
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.options.logger.error('periodic task failed', { error }));
    }, periodMs);
    timer.unref();
    this.timers.push(timer);
  }
}
