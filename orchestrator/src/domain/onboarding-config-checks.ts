import { clientConfigFromData, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { providerScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { crossedGuardRails, type GuardRail } from '@agent-fleet/kernel/settings-guard-rails';
import type { ItemOutcome, OnboardingItemId } from './onboarding-checklist.ts';

const DAY_MS = 86_400_000;
const SPEC_ONBOARDING_DAYS = 28;
const SPEC_RATE_LIMITS = { perHour: 20, perDay: 100 };
/** The guard rail a confirmed early end of draft-review-send is recorded under. */
const ONBOARDING_ENDED_EARLY = 'onboarding.ended_early';

/** Someone's recorded acceptance of a departure from the safe defaults: who, and when (the ops log's). */
export interface RailConfirmation {
  by: string;
  at: string;
}

/** The last recorded confirmation of a guard rail (by id) that still stands; undefined: none. */
export type RailConfirmations = (railId: string) => RailConfirmation | undefined;

/** Where the applied config stands against when the client began: its registry record's dates. */
export interface OnboardingDates {
  /** The registry's onboarding start (the config's, else the provisioning time). */
  onboardingStartedAt: string;
  /** When the client was first provisioned: its agent may act from then. */
  createdAt: string;
}

const day = (at: number): string => new Date(at).toISOString().slice(0, 10);

/**
 * Weeks 1-4 in draft-review-send: the window of the applied config lasts at least 28 days and does not end
 * before the client's first 28 days are over (a start dated before the client existed ends it early just
 * the same). An early end someone confirmed (guard rail `onboarding.ended_early`) passes, naming them. Pure.
 */
export function checkDraftReviewSend(
  config: ClientConfig,
  dates: OnboardingDates,
  now: Date,
  confirmations: RailConfirmations = () => undefined,
): ItemOutcome {
  const startedAt = config.onboarding.startedAt ?? dates.onboardingStartedAt;
  const days = config.onboarding.days;
  const ends = new Date(Date.parse(startedAt) + days * DAY_MS);
  const firstWeeksEnd = Date.parse(dates.createdAt) + SPEC_ONBOARDING_DAYS * DAY_MS;
  const short =
    days < SPEC_ONBOARDING_DAYS
      ? `onboarding window is ${days} day(s) from ${startedAt.slice(0, 10)}: weeks 1-4 need onboarding.days of at least ${SPEC_ONBOARDING_DAYS}`
      : ends.getTime() < firstWeeksEnd
        ? `onboarding window runs from ${startedAt.slice(0, 10)}, before the client was provisioned (${dates.createdAt.slice(0, 10)}), and ends ${day(ends.getTime())}: its first ${SPEC_ONBOARDING_DAYS} days end ${day(firstWeeksEnd)}; set onboarding.startedAt to its first day, or leave it out`
        : null;
  if (short !== null) {
    const confirmed = confirmations(ONBOARDING_ENDED_EARLY);
    if (confirmed === undefined) return { status: 'fail', evidence: [short] };
    return {
      status: 'pass',
      evidence: [`${short}; ended early as confirmed by ${confirmed.by} at ${confirmed.at} (${ONBOARDING_ENDED_EARLY})`],
    };
  }
  const state =
    ends.getTime() > now.getTime()
      ? `every send needs a client admin's approval until ${ends.toISOString().slice(0, 10)}`
      : `the window ended ${ends.toISOString().slice(0, 10)}`;
  return {
    status: 'pass',
    evidence: [`draft-review-send for ${days} days from ${startedAt.slice(0, 10)}: ${state}`],
  };
}

/** Rate limits present in the applied config; above the spec's defaults they need a confirmation (withDepartures). Pure. */
export function checkRateLimits(config: ClientConfig): ItemOutcome {
  const { perHour, perDay } = config.rateLimits;
  const above = perHour > SPEC_RATE_LIMITS.perHour || perDay > SPEC_RATE_LIMITS.perDay;
  return {
    status: 'pass',
    evidence: [
      `${perHour} recipients an hour, ${perDay} a day${above ? ` (above the spec's defaults of ${SPEC_RATE_LIMITS.perHour}/${SPEC_RATE_LIMITS.perDay})` : ''}`,
    ],
  };
}

/**
 * The stored grant's scopes against what the applied config needs, no more and no fewer (scopes compare
 * case-insensitively, as Entra treats them). `granted` null: the grant does not record its scopes. Pure.
 */
export function checkGrantScopes(config: ClientConfig, granted: readonly string[] | null): ItemOutcome {
  const needed = providerScopesFor(config.provider, config.permissions);
  if (granted === null) {
    return {
      status: 'fail',
      evidence: [
        `the stored ${config.provider} grant does not record its scopes: connect the mailbox again (fleet connect)`,
      ],
    };
  }
  const lower = (scopes: readonly string[]) => new Set(scopes.map((scope) => scope.toLowerCase()));
  const grantedSet = lower(granted);
  const neededSet = lower(needed);
  const missing = needed.filter((scope) => !grantedSet.has(scope.toLowerCase()));
  const extra = granted.filter((scope) => !neededSet.has(scope.toLowerCase()));
  const evidence = [`the settings need ${needed.join(' ') || 'no scope'}`];
  if (extra.length > 0)
    evidence.push(`granted beyond that: ${extra.join(' ')} (revoke the grant and connect again)`);
  if (missing.length > 0) evidence.push(`not granted: ${missing.join(' ')}`);
  if (extra.length === 0 && missing.length === 0)
    evidence.push(`the stored ${config.provider} grant holds exactly these`);
  return { status: extra.length === 0 && missing.length === 0 ? 'pass' : 'fail', evidence };
}

/**
 * Which departures from the safe defaults each config item answers for, by guard-rail id: the approval
 * workflow (a type released from approval, free-text auto-send, a larger bulk threshold, a longer approval
 * timeout), the sending limits, and the permissions (the scopes the grant then needs).
 */
const ITEM_RAILS: Partial<Record<OnboardingItemId, (railId: string) => boolean>> = {
  'draft-review-send': (id) =>
    id.startsWith('approval.') || id.startsWith('freeText.') || id === 'bulkThreshold' || id === 'approvalTimeoutHours',
  'rate-limits': (id) => id.startsWith('rateLimits.'),
  'oauth-scopes': (id) => id.startsWith('permissions.'),
};

/**
 * The guard rails the applied config stands beyond, measured from the schema's safe defaults rather than
 * from the previous version: a config provisioned that way crossed them without anyone confirming. Pure.
 */
export function departuresFromSafeDefaults(config: ClientConfig, now: Date): GuardRail[] {
  const defaults = clientConfigFromData({ client: config.client }, 'the safe defaults');
  return crossedGuardRails(defaults, config, now);
}

/**
 * An item's outcome with the departures it answers for: each one confirmed is named with who accepted it;
 * one nobody confirmed fails the item (a setting beyond the spec's defaults is done only when someone is
 * on record for it, never assumed). Pure.
 */
export function withDepartures(
  item: OnboardingItemId,
  outcome: ItemOutcome,
  departures: readonly GuardRail[],
  confirmations: RailConfirmations,
): ItemOutcome {
  const answers = ITEM_RAILS[item];
  if (answers === undefined) return outcome;
  const own = departures.filter((rail) => answers(rail.id));
  if (own.length === 0) return outcome;
  let unconfirmed = false;
  const lines = own.map((rail) => {
    const confirmed = confirmations(rail.id);
    if (confirmed !== undefined)
      return `${rail.field} beyond the spec's safe default (${rail.id}): confirmed by ${confirmed.by} at ${confirmed.at}`;
    unconfirmed = true;
    return `${rail.field} beyond the spec's safe default (${rail.id}) with no recorded confirmation: ${rail.risk}`;
  });
  return { status: unconfirmed ? 'fail' : outcome.status, evidence: [...outcome.evidence, ...lines] };
}
