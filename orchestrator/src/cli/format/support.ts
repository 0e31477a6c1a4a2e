import type { SupportGrant } from '../../services/support-access.ts';

/** `fleet support request`: the pending grant, and where a client admin approves it. */
export function formatSupportRequested(clientId: string, grant: SupportGrant): string {
  return [
    `${grant.id}: requested for ${grant.member} (${grant.incident}, ${grant.hours} h once approved).`,
    `  a client admin of ${clientId} approves or denies it in the client portal (Support access)`,
  ].join('\n');
}

export function formatSupportRevoked(grant: SupportGrant): string {
  return `${grant.id}: ${grant.status}.`;
}

export function formatSupportGrants(grants: readonly SupportGrant[]): string {
  if (grants.length === 0) return 'no support grants';
  return grants
    .map(
      (g) => `${g.id}  ${g.status.padEnd(8)} ${g.member}  ${g.incident}  ${g.expiresAt ?? '-'}  ${g.reason}`,
    )
    .join('\n');
}
