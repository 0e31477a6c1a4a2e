import type { OpsLogHead } from '../../domain/ops-log-chain.ts';
import type { CheckpointAdvance, OpsLogHeadCheckpoint } from './ops-log-head-checkpoint.ts';

/** What became of a head handed to `recordOpsLogHead`: the checkpoint's answer, or the error that stopped it. */
export type HeadRecording = { outcome: CheckpointAdvance; seq: number } | { outcome: 'failed'; seq: number; error: unknown };

interface Batch {
  head: OpsLogHead;
  checkpoint: OpsLogHeadCheckpoint;
  waiters: ((recording: HeadRecording) => void)[];
}

/**
 * The writes of one checkpoint file, one at a time: a head recorded while a write runs waits for the next
 * one, which records the latest head handed over meanwhile (the checkpoint moves only forwards, so the later
 * head stands for the earlier ones too). Each append then costs at most one write of the file, and a burst
 * of appends shares writes instead of queueing one per entry.
 */
class HeadWriteQueue {
  private next: Batch | null = null;
  private running = false;
  private readonly onIdle: () => void;

  constructor(onIdle: () => void) {
    this.onIdle = onIdle;
  }

  record(checkpoint: OpsLogHeadCheckpoint, head: OpsLogHead): Promise<HeadRecording> {
    return new Promise((resolve) => {
      if (this.next === null) this.next = { head, checkpoint, waiters: [resolve] };
      else {
        if (head.seq > this.next.head.seq) this.next = { ...this.next, head, checkpoint };
        this.next.waiters.push(resolve);
      }
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    for (let batch = this.next; batch !== null; batch = this.next) {
      this.next = null;
      let recording: HeadRecording;
      try {
        recording = { outcome: await batch.checkpoint.advance(batch.head), seq: batch.head.seq };
      } catch (error) {
        recording = { outcome: 'failed', seq: batch.head.seq, error };
      }
      for (const resolve of batch.waiters) resolve(recording);
    }
    this.running = false;
    this.onIdle();
  }
}

/** Per checkpoint file, for every registry handle of this process: their writes must not interleave either. */
const queues = new Map<string, HeadWriteQueue>();

/**
 * Records `head` in `checkpoint` after its entry was committed; never rejects (a failure is the answer). The
 * database's ops-log lock is not held meanwhile: appends go on while the file is written and fsynced, and
 * the queue, not the lock, keeps this process's writes in order.
 */
export function recordOpsLogHead(checkpoint: OpsLogHeadCheckpoint, head: OpsLogHead): Promise<HeadRecording> {
  const location = checkpoint.location;
  let queue = queues.get(location);
  if (queue === undefined) {
    const created: HeadWriteQueue = new HeadWriteQueue(() => {
      if (queues.get(location) === created) queues.delete(location);
    });
    queue = created;
    queues.set(location, queue);
  }
  return queue.record(checkpoint, head);
}
