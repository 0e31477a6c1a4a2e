import type { SecretMetadata } from '../../ports/secret-store.ts';

export function formatSecretStored(clientId: string, name: string, version: number): string {
  return `${clientId}/${name} stored (version ${version}).`;
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
