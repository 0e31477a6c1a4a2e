import type { SecretMetadata } from '../../ports/secret-store.ts';

/** When a running agent starts using a secret stored anew (connectors-from-secrets.ts reads them so). */
const PICKED_UP: Readonly<Record<string, string>> = {
  anthropic: 'a running agent uses it from its next model call (within 5 minutes; at once if the old key is refused)',
  gmail: 'a running agent uses it from its next token refresh (within the hour; at once if the old grant is refused)',
  outlook: 'a running agent uses it from its next token refresh (within the hour; at once if the old grant is refused)',
};

export function formatSecretStored(clientId: string, name: string, version: number): string {
  const pickedUp = Object.hasOwn(PICKED_UP, name) ? PICKED_UP[name] : 'a running agent reads it when it next connects (fleet resume, or a restart)';
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
