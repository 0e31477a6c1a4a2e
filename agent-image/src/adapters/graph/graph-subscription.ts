import * as z from 'zod';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { GRAPH_MESSAGE_SUBSCRIPTION_MAX_MINUTES, type MailWatch } from '../../ports/mail-provider.ts';

/** Graph change-notification subscriptions: their ids, expiry and answers, checked. */

const SUBSCRIPTION_ID_RULE = /^[A-Za-z0-9-]{1,200}$/;
const subscriptionSchema = z.object({ id: z.string().regex(SUBSCRIPTION_ID_RULE), expirationDateTime: z.iso.datetime({ offset: true }) });

/** A subscription as Graph answered it; anything else is an integrity error. */
export function parseSubscription(value: unknown): { id: string; expiresAt: string } {
  const parsed = subscriptionSchema.safeParse(value);
  if (!parsed.success) throw new FleetError('integrity', 'graph answered a subscription in an unexpected shape');
  return { id: parsed.data.id, expiresAt: new Date(parsed.data.expirationDateTime).toISOString() };
}

/** The subscription's path, its id checked first: it came back from storage, so it is untrusted. */
export function subscriptionPath(watch: MailWatch): string {
  if (!SUBSCRIPTION_ID_RULE.test(watch.id)) throw new FleetError('invalid_input', 'malformed subscription id');
  return `/subscriptions/${watch.id}`;
}

/** The expiry to ask for: the requested lifetime, kept a few minutes under Graph's maximum. */
export function subscriptionExpiry(now: Date, lifetimeMinutes: number): string {
  const minutes = Math.min(Math.max(lifetimeMinutes, 5), GRAPH_MESSAGE_SUBSCRIPTION_MAX_MINUTES - 10);
  return new Date(now.getTime() + minutes * 60_000).toISOString();
}
