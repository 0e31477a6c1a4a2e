import type { OpsLogHead } from '../../domain/ops-log-chain.ts';
import type { CheckpointAdvance, OpsLogHeadCheckpoint } from './ops-log-head-checkpoint.ts';

/** What became of a head handed to `recordOpsLogHead`: the checkpoint's answer, or the error that stopped it. */
export type HeadRecording = { outcome: CheckpointAdvance; seq: number } | { outcome: 'failed'; seq: number; error: unknown };

/** How a head is recorded. */
export interface HeadRecordingOptions {
  /** Whether a missing checkpoint file may be made (see `OpsLogHeadCheckpoint.advance`). */
  create: boolean;
  /**
   * The database's head now (null: an empty log, or it cannot be read). After a write, the head is read
   * again: another process (a second orchestrator during a restart) may have written an older head over
   * a newer one between its read of the file and its rename, and the write after the last one puts the
   * checkpoint back at the head.
   */
  latest?: (() => Promise<OpsLogHead | null>) | undefined;
  /**
   * Whether the log holds a recorded head (see `AdvanceOptions.holds`): without it, a tail cut from the
   * database and grown again by later appends past the checkpoint's seq would move the checkpoint on.
   */
  holds?: ((recorded: OpsLogHead) => Promise<boolean>) | undefined;
}

interface Batch {
  head: OpsLogHead;
  checkpoint: OpsLogHeadCheckpoint;
  options: HeadRecordingOptions;
  waiters: ((recording: HeadRecording) => void)[];
  /** How many catch-up writes (of the database's head, after a write) came before this one in a row. */
  catchUps: number;
}

/**
 * Catch-up writes in a row, at most: under appends from several processes without end, each append's own
 * write follows anyway; the bound only keeps one queue from writing for ever.
 */
const MAX_CATCH_UPS = 3;

/**
 * The writes of one checkpoint file, one at a time: a head recorded while a write runs waits for the next
 * one, which records the latest head handed over meanwhile (the checkpoint moves only forwards, so the later
 * head stands for the earlier ones too). Each append then costs at most one write of the file, and a burst
 * of appends shares writes instead of queueing one per entry.
 */
class HeadWriteQueue {
  private next: Batch | null = null;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private readonly onIdle: () => void;

  constructor(onIdle: () => void) {
    this.onIdle = onIdle;
  }

  record(checkpoint: OpsLogHeadCheckpoint, head: OpsLogHead, options: HeadRecordingOptions): Promise<HeadRecording> {
    return new Promise((resolve) => {
      if (this.next === null) this.next = { head, checkpoint, options, waiters: [resolve], catchUps: 0 };
      else {
        if (head.seq > this.next.head.seq) this.next = { ...this.next, head, checkpoint, options, catchUps: 0 };
        this.next.waiters.push(resolve);
      }
      if (!this.running) void this.drain();
    });
  }

  /** Resolves once no write is running or waiting. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let batch = this.next; batch !== null; batch = this.next) {
      this.next = null;
      let recording: HeadRecording;
      try {
        recording = { outcome: await batch.checkpoint.advance(batch.head, { create: batch.options.create, holds: batch.options.holds }), seq: batch.head.seq };
      } catch (error) {
        recording = { outcome: 'failed', seq: batch.head.seq, error };
      }
      for (const resolve of batch.waiters) resolve(recording);
      if (recording.outcome === 'advanced' && this.next === null) await this.catchUp(batch);
    }
    this.running = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.onIdle();
  }

  /** After a write with nothing queued behind it: the database's head, queued when the write left the file behind it. */
  private async catchUp(written: Batch): Promise<void> {
    const latest = written.options.latest;
    if (latest === undefined || written.catchUps >= MAX_CATCH_UPS) return;
    let head: OpsLogHead | null;
    try {
      head = await latest();
    } catch {
      // Best effort on top of a write that succeeded: the next append's write tries again, and the
      // checkpoint's lag is a metric (fleet_ops_log_checkpoint_lag_entries).
      return;
    }
    if (head === null || head.seq <= written.head.seq || this.next !== null) return;
    this.next = { head, checkpoint: written.checkpoint, options: { ...written.options, create: false }, waiters: [], catchUps: written.catchUps + 1 };
  }
}

/** Per checkpoint file, for every registry handle of this process: their writes must not interleave either. */
const queues = new Map<string, HeadWriteQueue>();

/**
 * Records `head` in `checkpoint` after its entry was committed; never rejects (a failure is the answer). The
 * database's ops-log lock is not held meanwhile: appends go on while the file is written and fsynced, and
 * the queue, not the lock, keeps this process's writes in order (`options.latest` repairs what another
 * process's write does to that order).
 */
export function recordOpsLogHead(checkpoint: OpsLogHeadCheckpoint, head: OpsLogHead, options: HeadRecordingOptions = { create: true }): Promise<HeadRecording> {
  const location = checkpoint.location;
  let queue = queues.get(location);
  if (queue === undefined) {
    const created: HeadWriteQueue = new HeadWriteQueue(() => {
      if (queues.get(location) === created) queues.delete(location);
    });
    queue = created;
    queues.set(location, queue);
  }
  return queue.record(checkpoint, head, options);
}

/** Resolves once this process has no write of the checkpoint at `location` running or waiting. */
export function opsLogHeadWritesSettled(location: string): Promise<void> {
  return queues.get(location)?.idle() ?? Promise.resolve();
}
