import type { LoopReport } from './mail-loop.ts';

/**
 * The pause before the next round while a flood waits: short, so 5,000 messages at 50 a pass take
 * minutes rather than a hundred periods; not nothing, so the process answers its control and push
 * requests between rounds, and each round's other duties (sends left pending, approved sends) still come
 * round by round.
 */
export const BACKLOG_ROUND_PAUSE_MS = 1_000;

/** What the pacing reads of a mail pass's report. */
export type RoundPacingReport = Pick<LoopReport, 'synced' | 'finished' | 'deferred'>;

/**
 * How long after a round the next one is due, given what its mail pass reported: soon when the pass
 * synced, got messages through, and left others waiting only because of its bounds; otherwise the period.
 * A pass where nothing got through (a provider or model outage) or whose sync failed waits the period,
 * as do its retries' backoff within it: a failing provider is never asked in a tight loop. Pure.
 */
export function nextRoundDelayMs(report: RoundPacingReport, periodMs: number): number {
  const backlogMoves = report.synced && report.finished > 0 && report.deferred > 0;
  return backlogMoves ? Math.min(periodMs, BACKLOG_ROUND_PAUSE_MS) : periodMs;
}
