import type { AutoSendRecord } from './policy-state.ts';
import { DAY_MS } from './rate-window.ts';

/**
 * Reply-loop limits: how many sends may go out on their own (the gate alone, no human) to one recipient
 * and into one thread in a rolling window, counting only those that went out before the message being
 * answered arrived (they may have prompted it). A correspondent's auto-responder that marks nothing
 * (no Auto-Submitted, no Precedence) answers each automatic reply with a new message, which the agent
 * would answer again until the client's hourly limit paused all of its sending. Past these limits the
 * next send waits for a human (`auto_reply_loop`): held, never dropped. Sends a human approved are not
 * counted; they are how a loop ends. Messages that were already there when the agent answered the
 * others (a contact's burst of invoices, each acknowledged) are not answers to those answers: not counted.
 */
export type AutoSendLimits = {
  /** Automatic sends one recipient may get in the window. */
  readonly perRecipient: number;
  /** Automatic replies one thread may get in the window. */
  readonly perThread: number;
  /** The rolling window, milliseconds; no longer than a day (the state keeps a day of history). */
  readonly windowMs: number;
};

/**
 * One automatic reply per conversation a day (a second one there is almost always an answer to an
 * answer: most auto-responders reply in the thread), and ten automatic sends per correspondent a day
 * (a contact who writes again and again after each answer, as a supplier sending one invoice after
 * another does, is answered on its own up to ten times; a loop with an auto-responder that opens a new
 * thread each time stops there, below the client's hourly limit, so it never pauses the client's other
 * mail). A constant until the client config carries it.
 */
export const DEFAULT_AUTO_SEND_LIMITS: AutoSendLimits = { perRecipient: 10, perThread: 1, windowMs: DAY_MS };

export type AutoSendUsage = {
  /** The most automatic sends any one of the recipients got in the window. */
  toRecipient: number;
  /** Automatic sends into the thread in the window; 0 when the thread is not known. */
  inThread: number;
};

/**
 * Automatic sends in the window before `now` to the busiest of `recipients` and into `thread` that went
 * out before the answered message arrived (`inboundAt`; every one in the window when it is not known).
 * History is oldest first, so the scan walks back from the newest and stops at the window's start.
 * Records dated after `now` (the clock moved back) count when the arrival is unknown: fail closed. Pure.
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
  const perRecipient = new Map<string, number>(recipients.map((address) => [address, 0]));
  let inThread = 0;
  for (let index = history.length - 1; index >= 0; index--) {
    const record = history[index]!;
    if (record.at <= start) break;
    if (receivedAt !== undefined && record.at >= receivedAt) continue;
    if (thread !== undefined && record.thread === thread) inThread++;
    for (const address of record.recipients) {
      const count = perRecipient.get(address);
      if (count !== undefined) perRecipient.set(address, count + 1);
    }
  }
  return { toRecipient: Math.max(0, ...perRecipient.values()), inThread };
}

/** Why one more automatic send would exceed the limits (human-readable, no addresses); empty when it would not. Pure. */
export function autoSendLimitIssues(usage: AutoSendUsage, limits: AutoSendLimits): string[] {
  const hours = Math.round(limits.windowMs / 3_600_000);
  const issues: string[] = [];
  if (usage.inThread >= limits.perThread) {
    issues.push(`${usage.inThread} automatic reply(ies) already went into this thread in the last ${hours} h (limit ${limits.perThread})`);
  }
  if (usage.toRecipient >= limits.perRecipient) {
    issues.push(`a recipient already got ${usage.toRecipient} automatic email(s) in the last ${hours} h (limit ${limits.perRecipient})`);
  }
  return issues;
}
