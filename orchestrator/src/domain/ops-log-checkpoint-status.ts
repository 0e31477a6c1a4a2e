/**
 * The ops log's head checkpoint as metrics see it, at a scrape:
 * - `ok`: the log holds the checkpoint's entry (it may run ahead of it: `lagEntries`);
 * - `missing`: the log has entries and no checkpoint file is there (deleted or moved away, or never written);
 * - `invalid`: the file cannot be read, or fails its MAC;
 * - `disagrees`: the log ends before the checkpoint, or holds another entry at its seq (truncated or rewritten);
 * - `empty`: no entries and no checkpoint yet;
 * - `none`: this registry keeps no checkpoint.
 */
export type OpsLogCheckpointState = 'ok' | 'missing' | 'invalid' | 'disagrees' | 'empty' | 'none';

export const OPS_LOG_CHECKPOINT_STATES: readonly OpsLogCheckpointState[] = ['ok', 'missing', 'invalid', 'disagrees', 'empty', 'none'];

export interface OpsLogCheckpointStatus {
  state: OpsLogCheckpointState;
  /** Entries of the log past the checkpoint (all of them when it is missing; 0 when it disagrees or is invalid). */
  lagEntries: number;
  /** Checkpoint writes that failed or were refused since the start (an I/O error, a file that fails its MAC or is gone). */
  writeFailures: number;
  /** Whether this start found no checkpoint beside a log with entries, and made one from the log's head (trust on first use). */
  anchoredOnFirstUse: boolean;
}
