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

/** A reason may span lines; in a one-row-per-grant list it stays on its row, or it could forge grant rows. */
function onOneLine(text: string): string {
  return text.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ⏎ ');
}

export function formatSupportGrants(grants: readonly SupportGrant[]): string {
  if (grants.length === 0) return 'no support grants';
  return grants
    .map(
      (g) =>
        `${g.id}  ${g.status.padEnd(8)} ${g.member}  ${g.incident}  ${g.expiresAt ?? '-'}  ${onOneLine(g.reason)}`,
    )
    .join('\n');
}
