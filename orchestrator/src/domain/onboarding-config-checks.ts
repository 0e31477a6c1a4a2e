import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { providerScopesFor } from '@agent-fleet/kernel/provider-scopes';
import type { ItemOutcome } from './onboarding-checklist.ts';

const DAY_MS = 86_400_000;
const SPEC_ONBOARDING_DAYS = 28;
const SPEC_RATE_LIMITS = { perHour: 20, perDay: 100 };

/** Weeks 1-4 in draft-review-send: the window of the applied config covers at least 28 days. Pure. */
export function checkDraftReviewSend(config: ClientConfig, provisionedAt: string, now: Date): ItemOutcome {
  const startedAt = config.onboarding.startedAt ?? provisionedAt;
  const days = config.onboarding.days;
  const ends = new Date(Date.parse(startedAt) + days * DAY_MS);
  if (days < SPEC_ONBOARDING_DAYS) {
    return {
      status: 'fail',
      evidence: [
        `onboarding window is ${days} day(s) from ${startedAt.slice(0, 10)}: weeks 1-4 need onboarding.days of at least ${SPEC_ONBOARDING_DAYS}`,
      ],
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

/** Rate limits present in the applied config; above the spec's defaults they are noted, not refused. Pure. */
export function checkRateLimits(config: ClientConfig): ItemOutcome {
  const { perHour, perDay } = config.rateLimits;
  const above = perHour > SPEC_RATE_LIMITS.perHour || perDay > SPEC_RATE_LIMITS.perDay;
  return {
    status: 'pass',
    evidence: [
      `${perHour} recipients an hour, ${perDay} a day${above ? ` (above the spec's defaults of ${SPEC_RATE_LIMITS.perHour}/${SPEC_RATE_LIMITS.perDay}: adjusted for this client)` : ''}`,
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
