import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { WatchTarget } from '../../ports/mail-provider.ts';
import { DEFAULT_RENEWAL_POLICY, GMAIL_RENEWAL_POLICY, type RenewalPolicy } from './renewal-schedule.ts';

/** Push is on for a client when its config names where its provider should push. */
export interface PushSettings {
  kind: 'gmail' | 'outlook';
  /** The watch target; `secret` is the clientState (Graph) — Gmail's push token lives in the push URL. */
  target(secret: string): WatchTarget;
  policy: RenewalPolicy;
}

/** Three days: well under Graph's 10080-minute maximum, renewed at 80 % of it. */
export const GRAPH_SUBSCRIPTION_LIFETIME_MINUTES = 4320;

/** The push settings of this client, or null when push is off (polling only, the default). */
export function pushSettingsFor(config: ClientConfig, providerKind: 'gmail' | 'outlook'): PushSettings | null {
  const push = config.push;
  if (push === undefined) return null;
  if (providerKind === 'gmail') {
    const topicName = push.gmailTopic;
    if (topicName === undefined) return null;
    return { kind: 'gmail', target: () => ({ kind: 'gmail', topicName }), policy: GMAIL_RENEWAL_POLICY };
  }
  const notificationUrl = push.notificationUrl;
  if (notificationUrl === undefined) return null;
  return {
    kind: 'outlook',
    target: (secret) => ({
      kind: 'outlook',
      notificationUrl,
      lifecycleNotificationUrl: push.lifecycleNotificationUrl ?? notificationUrl,
      clientState: secret,
      lifetimeMinutes: GRAPH_SUBSCRIPTION_LIFETIME_MINUTES,
    }),
    policy: DEFAULT_RENEWAL_POLICY,
  };
}
