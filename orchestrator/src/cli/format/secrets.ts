import { secretPickUp, type SecretPickUp } from '@agent-fleet/kernel/live-secrets';
import type { SecretMetadata } from '../../ports/secret-store.ts';

// `fleet resume` reconnects only an agent paused for authentication; an unpaused one keeps its connectors.
const RECONNECT = 'when it next connects (a restart, a revive, or resuming from an authentication pause)';

/** When a running agent starts using a secret stored anew, for each way it reads one again (kernel live-secrets). */
const PICKED_UP: Readonly<Record<SecretPickUp, string>> = {
  'model-call': 'a running agent uses it from its next model call (within 5 minutes; at once if the old key is refused)',
  'token-refresh': 'a running agent uses it from its next token refresh (within the hour; at once if the old grant is refused)',
  'token-refresh-checked':
    'a running agent finds it at its next token refresh (within the hour; at once if the old grant is refused) and uses it from the round after, once it has checked which account it opens',
  'crm-refused': `a running agent uses it once the CRM refuses the old credentials (CRM work paused), else ${RECONNECT}`,
};

export function formatSecretStored(clientId: string, name: string, version: number): string {
  const pickUp = secretPickUp(name);
  const pickedUp = pickUp === null ? `a running agent reads it ${RECONNECT}` : PICKED_UP[pickUp];
  return `${clientId}/${name} stored (version ${version}); ${pickedUp}.`;
}

/** Names, versions and dates only: values never leave the secret store. */
export function formatSecretList(secrets: readonly SecretMetadata[]): string {
  return secrets.length === 0
    ? 'no secrets'
    : secrets.map((s) => `${s.name.padEnd(24)} v${s.version}  ${s.updatedAt}`).join('\n');
}

export function formatMailboxConnected(
  clientId: string,
  provider: string,
  result: { version: number; grantedScopes: readonly string[] },
): string {
  return `${clientId}: ${provider} connected, tokens stored as secret "${provider}" (version ${result.version}); scopes: ${result.grantedScopes.join(' ')}`;
}
