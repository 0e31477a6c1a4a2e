import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { reviewQueued, reviewResolved } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import type { ReviewQueueReading } from '../../observability/agent-metrics.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { oneLine } from '../daily-summary/mail-quote.ts';
import type { AgentStateStore, MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';

/**
 * The most messages that wait for a human at once. A client with this many unresolved has stopped looking;
 * past it the oldest entry leaves the queue unseen, with a `review_resolved` record (resolution `overflow`)
 * and agent_review_overflow_total counted, so nothing leaves silently and the state stays bounded.
 */
export const REVIEW_QUEUE_LIMIT = 1000;

/** What a human can do with a parked message: say it was dealt with, or let the agent try once more. */
export type ReviewAction = 'handled' | 'retry';

export interface ReviewResolutionInput {
  messageId: string;
  resolution: ReviewAction;
  /** The admin resolving it. */
  by: string;
  via?: 'orchestrator-api' | 'portal';
}

export interface ReviewResolutionResult {
  messageId: string;
  resolution: ReviewAction;
  /** False when the same resolution had been made already (nothing was recorded again). */
  changed: boolean;
}

/** What resolving needs of the opened volume. */
export interface ReviewParts {
  audit: Pick<AuditLog, 'append'>;
  state: AgentStateStore;
  now: () => Date;
}

/**
 * A subject as its review entry keeps it: the sender's words, so one line without the characters that hide
 * or reorder text, at most as many characters as the approval notices quote (mail-quote.ts).
 */
export function reviewSubject(subject: string): string {
  return oneLine(subject);
}

/**
 * Parks a message for a human: audited first (reason only: the subject is content), then its progress set
 * to `review` with the reason and, when the caller read the message, its subject (reviewSubject), which the
 * control API lists for the portal; the new progress is returned. The sender established when it was read
 * stays with it, for the portal; a retry mark stays too (the state store keeps it). Past
 * REVIEW_QUEUE_LIMIT the oldest entries overflow.
 */
export async function toReview(
  context: RuntimeContext,
  messageId: string,
  reason: string,
  parameters: { [key: string]: JsonValue } = {},
  /** The message's Subject as read; omitted when the message was not read (its entry says "not recorded"). */
  subject?: string,
): Promise<MessageProgress> {
  const previous = context.state.progress(messageId);
  const retriedFrom = previous?.reviewRetriedFrom;
  await context.audit.append(reviewQueued(messageId, reason, retriedFrom === undefined ? parameters : { ...parameters, retried_from: retriedFrom }));
  const progress: MessageProgress = {
    stage: 'review',
    at: context.now().toISOString(),
    reviewReason: reason,
    ...(subject === undefined ? {} : { reviewSubject: reviewSubject(subject) }),
    ...(previous?.inbound === undefined ? {} : { inbound: previous.inbound }),
  };
  await context.state.setProgress(messageId, progress);
  await context.state.changeReviewQueue(() => overflow(context, messageId));
  return context.state.progress(messageId) ?? progress;
}

/** Takes the oldest entries (never `parked`, just added) out while the queue is over its limit. */
async function overflow(context: RuntimeContext, parked: string): Promise<void> {
  const queue = context.state.inReview();
  let excess = queue.length - REVIEW_QUEUE_LIMIT;
  for (const entry of queue) {
    if (excess <= 0) break;
    if (entry.messageId === parked) continue;
    await context.audit.append(
      reviewResolved({
        messageId: entry.messageId,
        resolution: 'overflow',
        reason: entry.reason,
        limit: REVIEW_QUEUE_LIMIT,
        ...(entry.retriedFrom === null ? {} : { retriedFrom: entry.retriedFrom }),
      }),
    );
    const progress = context.state.progress(entry.messageId);
    await context.state.setProgress(entry.messageId, { stage: 'done', at: context.now().toISOString(), reviewReason: entry.reason, reviewOutcome: 'overflowed', ...(progress?.inbound === undefined ? {} : { inbound: progress.inbound }) });
    context.metrics.reviewOverflowed();
    excess--;
  }
}

/**
 * A human's resolution of a parked message, audited (`review_resolved`: who, which, what; no content)
 * before the state changes:
 * - `handled`: dealt with in the mailbox; the message is done and leaves the queue. Also accepted for an
 *   entry the queue's bound took out, so the human's word is on record.
 * - `retry`: queued again from the start (read, classify, draft, gate), once: the reason is remembered, and
 *   a message parked again after its retry can only be handled.
 * Repeating a resolution already made answers `changed: false` and records nothing. Errors: not_found (no
 * such message), conflict (not waiting for review, or a second retry).
 */
export function resolveReview(parts: ReviewParts, input: ReviewResolutionInput): Promise<ReviewResolutionResult> {
  return parts.state.changeReviewQueue(async () => {
    const { messageId, resolution } = input;
    const progress = parts.state.progress(messageId);
    if (progress === undefined) throw new FleetError('not_found', 'no such message in the review queue');
    const unchanged = { messageId, resolution, changed: false };
    const parkedHere = progress.stage === 'review' || (progress.stage === 'done' && progress.reviewOutcome === 'overflowed' && resolution === 'handled');
    if (!parkedHere) {
      if (resolution === 'handled' && progress.stage === 'done' && progress.reviewOutcome === 'handled') return unchanged;
      if (resolution === 'retry' && progress.reviewRetriedFrom !== undefined && progress.reviewOutcome === undefined) return unchanged;
      throw new FleetError('conflict', `the message is not waiting for review (it is ${describeStage(progress)})`);
    }
    const reason = progress.reviewReason ?? 'unknown';
    const retriedFrom = progress.reviewRetriedFrom;
    if (resolution === 'retry' && retriedFrom !== undefined) {
      throw new FleetError('conflict', 'the agent already tried this message again once and it was parked again: deal with it in the mailbox, then mark it handled');
    }
    await parts.audit.append(
      reviewResolved({
        messageId,
        resolution,
        reason,
        by: input.by,
        via: input.via ?? 'orchestrator-api',
        ...(retriedFrom === undefined ? {} : { retriedFrom }),
      }),
    );
    const at = parts.now().toISOString();
    const { inbound } = progress;
    await parts.state.setProgress(
      messageId,
      resolution === 'handled'
        ? { stage: 'done', at, reviewReason: reason, reviewOutcome: 'handled', ...(inbound === undefined ? {} : { inbound }) }
        : { stage: 'queued', at, reviewRetriedFrom: reason },
    );
    return { messageId, resolution, changed: true };
  });
}

/** The queue as its gauges read it (agent_review_queue_length and its oldest entry). */
export function reviewQueueReading(state: Pick<AgentStateStore, 'inReview'>): ReviewQueueReading {
  const queue = state.inReview();
  return { length: queue.length, oldestSince: queue[0]?.since ?? null };
}

function describeStage(progress: MessageProgress): string {
  if (progress.reviewOutcome === 'handled') return 'already marked handled';
  if (progress.reviewOutcome === 'overflowed') return 'taken out of the full queue';
  if (progress.reviewRetriedFrom !== undefined && progress.stage !== 'review') return `being tried again: ${progress.stage}`;
  return progress.stage;
}
