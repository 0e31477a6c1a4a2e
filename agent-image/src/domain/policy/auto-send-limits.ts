import type { AutoSendRecord } from './policy-state.ts';
import { DAY_MS } from './rate-window.ts';

/**
 * Reply-loop limits on what goes out on its own (the gate alone, no human) in a rolling window: automatic
 * replies into one thread, and exchanges with one correspondent (they wrote again after an automatic
 * answer; see AutoSendUsage). Only sends made before the answered message arrived count (they may have
 * prompted it). A correspondent's auto-responder that marks nothing (no Auto-Submitted, no Precedence)
 * answers each automatic reply with a new message, which the agent would answer again until the client's
 * hourly limit paused all of its sending. Past these limits the next send waits for a human
 * (`auto_reply_loop`): held, never dropped. Sends a human approved are not counted; they are how a loop
 * ends. A burst of messages that were all there before any answer is one exchange.
 */
export type AutoSendLimits = {
  /** Exchanges with one correspondent in the window (see AutoSendUsage.toRecipient). */
  readonly perRecipient: number;
  /** Automatic replies one thread may get in the window. */
  readonly perThread: number;
  /** The rolling window, milliseconds; no longer than a day (the state keeps a day of history). */
  readonly windowMs: number;
};

/**
 * One automatic reply per conversation a day (a second one there is almost always an answer to an
 * answer: most auto-responders reply in the thread), and ten exchanges per correspondent a day (a
 * supplier answering each acknowledgement with its next invoice is answered on its own up to ten times; a
 * loop with an auto-responder that opens a new thread each time stops there, below the client's hourly
 * limit, so it never pauses the client's other mail). A constant until the client config carries it.
 */
export const DEFAULT_AUTO_SEND_LIMITS: AutoSendLimits = { perRecipient: 10, perThread: 1, windowMs: DAY_MS };

export type AutoSendUsage = {
  /**
   * For the busiest of the recipients: how many times in the window they wrote again after an automatic
   * send of ours (each automatic answer to a message that arrived after the previous automatic send to
   * them, and the message answered now if it did too). A burst of messages that were all there before
   * any answer is one exchange; an auto-responder in a loop adds one each turn.
   */
  toRecipient: number;
  /** Automatic sends into the thread in the window before the message arrived; 0 when the thread is not known. */
  inThread: number;
};

/**
 * The reply-loop usage for answering a message (`inbound`: its thread and arrival, when known) to
 * `recipients` at `now`. Only automatic sends made before the message arrived count (they may have
 * prompted it); with its arrival unknown, every one in the window counts and each as an exchange (fail
 * closed), as do records without the arrival of what they answered. History is oldest first; records
 * dated after `now` (the clock moved back) count unless the arrival says they came after it. Pure.
 */
export function autoSendUsage(
  history: readonly AutoSendRecord[],
  recipients: readonly string[],
  inbound: { thread?: string | undefined; receivedAt?: number | undefined },
  now: number,
  windowMs: number,
): AutoSendUsage {
  const start = now - windowMs;
  const { thread, receivedAt } = inbound;
  const earlier = history.filter((record) => record.at > start && (receivedAt === undefined || record.at < receivedAt));
  const inThread = thread === undefined ? 0 : earlier.filter((record) => record.thread === thread).length;
  const exchanges = recipients.map((address) => exchangesWith(earlier.filter((record) => record.recipients.includes(address)), receivedAt));
  return { toRecipient: Math.max(0, ...exchanges), inThread };
}

/** Exchanges with one correspondent: `sends` (oldest first) each a turn when what it answered arrived after the send before it. */
function exchangesWith(sends: readonly AutoSendRecord[], receivedAt: number | undefined): number {
  let turns = 0;
  for (let index = 1; index < sends.length; index++) {
    const answeredAt = sends[index]!.answeredAt;
    if (answeredAt === undefined || answeredAt > sends[index - 1]!.at) turns++;
  }
  const last = sends.at(-1);
  if (last !== undefined && (receivedAt === undefined || receivedAt > last.at)) turns++;
  return turns;
}

/** Why one more automatic send would exceed the limits (human-readable, no addresses); empty when it would not. Pure. */
export function autoSendLimitIssues(usage: AutoSendUsage, limits: AutoSendLimits): string[] {
  const hours = Math.round(limits.windowMs / 3_600_000);
  const issues: string[] = [];
  if (usage.inThread >= limits.perThread) {
    issues.push(`${usage.inThread} automatic reply(ies) already went into this thread in the last ${hours} h (limit ${limits.perThread})`);
  }
  if (usage.toRecipient >= limits.perRecipient) {
    issues.push(`a recipient wrote back after an automatic email ${usage.toRecipient} time(s) in the last ${hours} h (limit ${limits.perRecipient})`);
  }
  return issues;
}
