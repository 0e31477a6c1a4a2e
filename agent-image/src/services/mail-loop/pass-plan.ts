import type { MessageProgress } from '../runtime/agent-state-store.ts';

/** A message waiting for the loop, as the state lists it (oldest first). */
export interface PassCandidate {
  id: string;
  progress: MessageProgress;
}

/** How much one pass of the mail loop takes on. */
export interface PassLimits {
  /** The most messages the pass works on (model calls, drafts, sends). An integer, at least 1. */
  maxMessages: number;
  /** The most queued messages read ahead (fetched and audited, no model call) when more wait than the pass works on. */
  maxReads: number;
}

/**
 * The lane a message waits in: its sender once read; null while the sender is not known (it is learnt
 * when the message is read). Unread mail shares the null lane, so it moves on every pass without taking
 * the turns of senders already known. Pure.
 */
export function senderLane(progress: MessageProgress): string | null {
  return progress.inbound?.sender.toLowerCase() ?? null;
}

/**
 * The messages one pass works on, at most `maxMessages`: one of each sender's in turn (each sender's oldest
 * first, senders in the order their oldest message waits), so a sender with thousands of messages waiting
 * takes one turn per round like a correspondent with one. The rest wait for later passes. Pure.
 */
export function workBatch(candidates: readonly PassCandidate[], maxMessages: number): string[] {
  const lanes = new Map<string | null, string[]>();
  for (const { id, progress } of candidates) {
    const lane = senderLane(progress);
    const waiting = lanes.get(lane);
    if (waiting === undefined) lanes.set(lane, [id]);
    else waiting.push(id);
  }
  const batch: string[] = [];
  const queues = [...lanes.values()];
  for (let round = 0; batch.length < maxMessages && queues.some((queue) => round < queue.length); round++) {
    for (const queue of queues) {
      const id = queue[round];
      if (id === undefined) continue;
      batch.push(id);
      if (batch.length >= maxMessages) break;
    }
  }
  return batch;
}

/**
 * The queued messages to read ahead before the pass picks its batch: none when every waiting message fits
 * in the batch (each is then read and worked in one go, fetched once); otherwise the oldest `maxReads`,
 * so their senders are known and the batch's turns go round the senders, not down one sender's backlog. Pure.
 */
export function readAhead(candidates: readonly PassCandidate[], limits: PassLimits): string[] {
  if (candidates.length <= limits.maxMessages) return [];
  return candidates
    .filter(({ progress }) => progress.stage === 'queued')
    .slice(0, limits.maxReads)
    .map(({ id }) => id);
}

/**
 * Which messages read ahead may still be in the pass's batch (workBatch), learnt as their senders are:
 * the read ahead keeps those, and only those, for the batch, so a message read ahead and then worked in
 * the same pass is fetched once. A message joins the end of its sender's lane (read ahead, it moves to the
 * end of the waiting order); it is in the batch only if fewer than `maxMessages` messages are taken before
 * it: every message of a lower place in its lane, and those of its place in the lanes ahead of its own.
 * Messages only join, so a message found out of the batch stays out. Pure.
 */
export class BatchForecast {
  readonly #maxMessages: number;
  /** Lane → how many messages wait in it, lanes in the order workBatch takes them. */
  readonly #lanes = new Map<string | null, number>();

  /** `waiting`: the messages waiting beside those read ahead (which are left out until `join`). */
  constructor(waiting: readonly PassCandidate[], maxMessages: number) {
    this.#maxMessages = maxMessages;
    for (const { progress } of waiting) {
      const lane = senderLane(progress);
      this.#lanes.set(lane, (this.#lanes.get(lane) ?? 0) + 1);
    }
  }

  /** A message read ahead joins its sender's lane; true when it may still be in the batch. */
  join(progress: MessageProgress): boolean {
    const lane = senderLane(progress);
    const place = this.#lanes.get(lane) ?? 0;
    let before = 0;
    let ahead = true;
    for (const [other, size] of this.#lanes) {
      if (other === lane) ahead = false;
      before += other === lane ? place : Math.min(size, ahead ? place + 1 : place);
    }
    this.#lanes.set(lane, place + 1);
    return before < this.#maxMessages;
  }
}
