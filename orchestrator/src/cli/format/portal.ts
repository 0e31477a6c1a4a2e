import type { OperatorApprovals } from '../../services/operator-approvals.ts';
import type { InviteResult } from '../../services/portal-invites.ts';

/** `fleet portal invite`: where the link went (the link itself only with --print). */
export function formatInvite(result: InviteResult): string {
  if (result.delivery === 'shown') {
    return [
      `Enrolment link for ${result.email} (${result.clientId}), single use, until ${result.expiresAt}:`,
      `  ${result.url}`,
      'Give it to that admin only. The ops log records that it was shown to you.',
    ].join('\n');
  }
  return `Enrolment link for ${result.email} (${result.clientId}) ${result.outcome === 'sent' ? 'mailed' : 'queued'} through the client’s own mailbox; valid until ${result.expiresAt}.`;
}

function age(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
  return `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`;
}

/** `fleet approvals list` without a support grant: counts and ages, no content. */
export function formatApprovalAges(result: Extract<OperatorApprovals, { content: 'hidden' }>): string {
  const lines = [
    `${result.count} held action(s)${result.oldestAgeMinutes === null ? '' : `, the oldest waiting ${age(result.oldestAgeMinutes)}`}.`,
  ];
  for (const entry of result.approvals) {
    lines.push(`  ${entry.id}  ${entry.status.padEnd(8)} ${entry.action.padEnd(10)} waiting ${age(entry.ageMinutes)}, expires ${entry.expiresAt}`);
  }
  lines.push(`Content hidden: ${result.why}.`);
  return lines.join('\n');
}
