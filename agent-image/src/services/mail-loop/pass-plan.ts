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
