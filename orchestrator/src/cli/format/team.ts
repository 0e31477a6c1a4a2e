import type { TeamMember } from '../../domain/team-member.ts';
import type { AddedMember } from '../../services/team/team-members.ts';

/** `fleet team add` / `reissue`: the enrolment code, shown once, and what the member does with it. */
export function formatMemberAdded(added: AddedMember): string {
  return [
    `${added.member.name} <${added.member.email}> ${added.bootstrap ? 'is the team’s first member (added over the owner-only socket)' : 'can now enrol'}.`,
    `  enrolment code (single use, until ${added.enrolment.expiresAt}): ${added.enrolment.code}`,
    `  give it to ${added.member.name} only; they run: fleet login ${added.member.name} --enrol`,
  ].join('\n');
}

export function formatMembers(members: readonly TeamMember[]): string {
  if (members.length === 0)
    return 'no team members yet: fleet team add <name> --email <address> (the first one over the local socket)';
  return members
    .map(
      (m) =>
        `${m.name.padEnd(24)} ${m.status.padEnd(10)} ${m.email}  last sign-in ${m.lastLoginAt ?? 'never'}`,
    )
    .join('\n');
}

/** `fleet login --enrol`: the secret for the authenticator app, shown only now. */
export function formatEnrolmentSecret(enrolment: { member: string; secret: string; uri: string }): string {
  return [
    `add this to your authenticator app (shown only now):`,
    `  secret: ${enrolment.secret}`,
    `  or the URI: ${enrolment.uri}`,
  ].join('\n');
}

export function formatSignedIn(session: { member: string; expiresAt: string }): string {
  return `signed in as ${session.member} until ${session.expiresAt}; client data stays open for 15 minutes (fleet login --refresh renews that)`;
}
