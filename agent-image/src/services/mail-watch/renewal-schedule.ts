import type { MailWatch } from '../../ports/mail-provider.ts';

/** When to renew a watch: early, so a slow or failing renewal still has time before the expiry. */
export interface RenewalPolicy {
  /** Fraction of the lifetime after which to renew. Default 0.8. */
  lifetimeFraction: number;
  /** Renew at the latest this long before the expiry, ms. Default one hour. */
  marginMs: number;
  /** Renew at least this often, ms (Google asks for a daily Gmail watch). Default none. */
  maxIntervalMs: number | null;
}

export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = { lifetimeFraction: 0.8, marginMs: 3_600_000, maxIntervalMs: null };
export const GMAIL_RENEWAL_POLICY: RenewalPolicy = { ...DEFAULT_RENEWAL_POLICY, maxIntervalMs: 86_400_000 };

/** The moment a watch is due for renewal: the earliest of the policy's bounds, never after the expiry. */
export function renewalTime(watch: Pick<MailWatch, 'createdAt' | 'expiresAt'>, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): Date {
  const created = Date.parse(watch.createdAt);
  const expires = Date.parse(watch.expiresAt);
  // An unreadable date renews at once rather than trusting a watch we cannot reason about.
  if (Number.isNaN(created) || Number.isNaN(expires) || expires <= created) return new Date(Number.isNaN(created) ? 0 : created);
  const lifetime = expires - created;
  const candidates = [created + lifetime * policy.lifetimeFraction, expires - policy.marginMs];
  if (policy.maxIntervalMs !== null) candidates.push(created + policy.maxIntervalMs);
  return new Date(Math.max(created, Math.min(...candidates)));
}

export function isRenewalDue(watch: Pick<MailWatch, 'createdAt' | 'expiresAt'>, now: Date, policy: RenewalPolicy = DEFAULT_RENEWAL_POLICY): boolean {
  return now.getTime() >= renewalTime(watch, policy).getTime();
}

/** True once the provider has stopped notifying for this watch. */
export function isExpired(watch: Pick<MailWatch, 'expiresAt'>, now: Date): boolean {
  const expires = Date.parse(watch.expiresAt);
  return Number.isNaN(expires) || now.getTime() >= expires;
}

/** Exponential backoff with full jitter for failed watch calls: base·2^(failures-1), capped. */
export function watchRetryDelayMs(failures: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
