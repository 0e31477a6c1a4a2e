import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { GoogleSigningKeys } from '../adapters/gmail/google-signing-keys.ts';
import type { GmailPushAuth } from '../services/mail-watch/google-push-identity.ts';

/**
 * The Gmail push verification a config asks for: the subscription's OIDC identity and Google's signing
 * keys (from `certsUrl`, Google's by default), or none when the config names no identity.
 */
export function gmailPushAuthFor(config: ClientConfig, certsUrl: string | undefined): GmailPushAuth | undefined {
  const identity = config.push?.gmailPushOidc;
  return identity === undefined ? undefined : { identity, keys: new GoogleSigningKeys({ certsUrl }) };
}
