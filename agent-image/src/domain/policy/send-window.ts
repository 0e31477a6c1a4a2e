import type { PolicyDecision, ReasonCode, SendWindow } from './decision.ts';

/**
 * The hourly and daily send limits (step 9 of the gate) applied to recipients counted against the room
 * the windows had: a retryable denial that pauses sending, or undefined when they fit. Pure.
 */
export function sendWindowDenial(window: SendWindow): PolicyDecision | undefined {
  const { perHour, perDay } = window;
  const reasons: ReasonCode[] = [];
  const details: string[] = [];
  if (window.counted > window.roomHour) {
    reasons.push('rate_limit_hour');
    details.push(`${perHour - window.roomHour} + ${window.counted} recipients exceed ${perHour} per hour`);
  }
  if (window.counted > window.roomDay) {
    reasons.push('rate_limit_day');
    details.push(`${perDay - window.roomDay} + ${window.counted} recipients exceed ${perDay} per day`);
  }
  if (reasons.length === 0) return undefined;
  return { decision: 'deny', reasons, details, retryable: true, pauseSending: true };
}
