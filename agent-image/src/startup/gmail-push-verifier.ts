import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { GooglePushTokenVerifier } from '../adapters/gmail/google-push-token.ts';
import { GoogleSigningKeys } from '../adapters/gmail/google-signing-keys.ts';
import type { PushTokenVerifier } from '../ports/push-token-verifier.ts';

/**
 * The Gmail push verification a config asks for: the subscription's OIDC identity checked against Google's
 * signing keys (from `certsUrl`, Google's by default), or none when the config names no identity.
 */
export function gmailPushVerifierFor(config: ClientConfig, certsUrl: string | undefined): PushTokenVerifier | undefined {
  const identity = config.push?.gmailPushOidc;
  return identity === undefined ? undefined : new GooglePushTokenVerifier({ identity, keys: new GoogleSigningKeys({ certsUrl }) });
}
