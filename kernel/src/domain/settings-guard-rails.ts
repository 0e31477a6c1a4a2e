import { FREE_TEXT_AUTO_SEND_RISK } from './auto-reply-config.ts';
import type { ClientConfig, EmailType } from './client-config.ts';

/**
 * Guard rails the client cannot remove by accident: a change that ends draft-review-send before its 28
 * days, raises a sending limit above the spec's defaults, stops holding offers, negotiations, new
 * contacts or client-facing mail for approval, or opts a type in to free-text auto-send, needs an explicit
 * confirmation that states the risk; it is then flagged in the ops log and the next daily summary. Pure.
 */

/** The spec's defaults: draft-review-send for the first 28 days, 20 recipients an hour, 100 a day. */
export const SPEC_DEFAULTS = { onboardingDays: 28, perHour: 20, perDay: 100 } as const;

/** Email types that must keep waiting for approval unless the client confirms otherwise. */
export const APPROVAL_GUARDED_TYPES: readonly EmailType[] = ['offer', 'negotiation', 'new_contact', 'client_facing'];

export interface GuardRail {
  /** Stable id, confirmed by name: `onboarding.ended_early`, `rateLimits.perHour`, `approval.offer`, `freeText.follow_up`. */
  id: string;
  /** The settings field it concerns (where the form shows it). */
  field: string;
  /** What the client accepts by confirming, in plain words. */
  risk: string;
}

const DAY_MS = 86_400_000;

const TYPE_LABELS: Partial<Record<EmailType, string>> = {
  offer: 'Offers',
  negotiation: 'Negotiations',
  new_contact: 'Emails to new contacts',
  client_facing: 'Client-facing emails',
};

function windowEnd(config: Pick<ClientConfig, 'onboarding'>): number {
  const started = config.onboarding.startedAt;
  return started === undefined ? Number.POSITIVE_INFINITY : Date.parse(started) + config.onboarding.days * DAY_MS;
}

/** Every guard rail the change from `before` to `after` crosses, in a fixed order. */
export function crossedGuardRails(before: ClientConfig, after: ClientConfig, now: Date): GuardRail[] {
  const rails: GuardRail[] = [];
  const realStart = before.onboarding.startedAt === undefined ? now.getTime() : Date.parse(before.onboarding.startedAt);
  const end = windowEnd(after);
  if (end < windowEnd(before) && end < realStart + SPEC_DEFAULTS.onboardingDays * DAY_MS) {
    rails.push({
      id: 'onboarding.ended_early',
      field: 'onboarding.days',
      risk:
        'Draft-review-send ends before its 28 days: routine replies may then be sent without your review while the assistant is still new to your mail, so a wrong tone or a wrong answer reaches your correspondents unseen.',
    });
  }
  for (const [key, limit] of [
    ['perHour', SPEC_DEFAULTS.perHour],
    ['perDay', SPEC_DEFAULTS.perDay],
  ] as const) {
    const value = after.rateLimits[key];
    if (value > limit && value > before.rateLimits[key]) {
      rails.push({
        id: `rateLimits.${key}`,
        field: `rateLimits.${key}`,
        risk: `More than ${limit} recipients ${key === 'perHour' ? 'an hour' : 'a day'} (now ${value}): if the assistant is fooled or misconfigured, more people receive its mail before the limit stops it.`,
      });
    }
  }
  for (const type of APPROVAL_GUARDED_TYPES) {
    const wasHeld = before.alwaysApprovalTypes.includes(type) || !before.autoSendTypes.includes(type);
    const released = (before.alwaysApprovalTypes.includes(type) && !after.alwaysApprovalTypes.includes(type)) || (wasHeld && after.autoSendTypes.includes(type));
    if (released) {
      rails.push({
        id: `approval.${type}`,
        field: 'alwaysApprovalTypes',
        risk: `${TYPE_LABELS[type] ?? type} no longer always wait for your approval: the policy may let some go out without a human reading them first.`,
      });
    }
  }
  const optedBefore = new Set(before.autoReply.freeTextAutoSend.map((entry) => entry.type));
  for (const entry of after.autoReply.freeTextAutoSend) {
    if (!optedBefore.has(entry.type)) {
      rails.push({ id: `freeText.${entry.type}`, field: 'autoReply.freeTextAutoSend', risk: FREE_TEXT_AUTO_SEND_RISK });
    }
  }
  return rails;
}

/** The crossed rails `confirmed` does not name. */
export function unconfirmedGuardRails(rails: readonly GuardRail[], confirmed: readonly string[]): GuardRail[] {
  const named = new Set(confirmed);
  return rails.filter((rail) => !named.has(rail.id));
}
