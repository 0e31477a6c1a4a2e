import type { PolicyDecision, ReasonCode } from './decision.ts';
import { sendWindowDenial } from './send-window.ts';

/**
 * One decision for actions that go together (a scheduling confirmation and its calendar event): they
 * run together, wait together, are approved together or are refused together. A denial of either
 * refuses both (a retryable one, a rate limit or a pause, keeps both waiting); any approval reason holds
 * both in one approval, listing every reason; only when each is allowed do both run, and only when the
 * recipients they reach together fit the send limits (the gate decided each against the same history,
 * so each alone may fit where both do not). Pure.
 */
export function bundleDecision(primary: PolicyDecision, companions: readonly PolicyDecision[]): PolicyDecision {
  const all = [primary, ...companions];
  const denied = all.find((decision) => decision.decision === 'deny' && decision.retryable !== true) ?? all.find((decision) => decision.decision === 'deny');
  if (denied !== undefined) return denied === primary ? primary : { ...denied, ...(primary.facts === undefined ? {} : { facts: primary.facts }) };
  if (all.some((decision) => decision.decision === 'needs_approval')) {
    const reasons: ReasonCode[] = [];
    for (const decision of all) if (decision.decision === 'needs_approval') for (const reason of decision.reasons) if (!reasons.includes(reason)) reasons.push(reason);
    const details = all.flatMap((decision) => decision.details ?? []);
    return { ...primary, decision: 'needs_approval', reasons, ...(details.length === 0 ? {} : { details }) };
  }
  const limited = togetherOverLimits(all);
  return limited === undefined ? primary : { ...limited, ...(primary.facts === undefined ? {} : { facts: primary.facts }) };
}

/** The send-limit denial for allowed actions whose recipients fit the windows one by one but not together. */
function togetherOverLimits(allowed: readonly PolicyDecision[]): PolicyDecision | undefined {
  const windows = allowed.flatMap((decision) => (decision.sendWindow === undefined ? [] : [decision.sendWindow]));
  const [first, ...others] = windows;
  if (first === undefined || others.length === 0) return undefined;
  const together = { ...first, counted: 0 };
  for (const window of windows) {
    together.counted += window.counted;
    together.roomHour = Math.min(together.roomHour, window.roomHour);
    together.roomDay = Math.min(together.roomDay, window.roomDay);
  }
  return sendWindowDenial(together);
}
