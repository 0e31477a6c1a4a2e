import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * The agency's team members and their sessions on the ops API (spec, "Huffman AI Team Access": MFA on
 * every system, support access logged with the team member). A member is a name (what the ops log shows
 * as actor) and an email address; they sign in with a TOTP code and get a short-lived session.
 */

/** enrolling: added, the authenticator not set up yet (no sign-in); active: signed in at least once. */
export type MemberStatus = 'enrolling' | 'active';

export interface TeamMember {
  name: string;
  email: string;
  status: MemberStatus;
  addedAt: string;
  addedBy: string;
  enrolledAt: string | null;
  lastLoginAt: string | null;
}

/** Who a request acts as: the member of a live session, and when that session last proved a second factor. */
export interface MemberPrincipal {
  member: string;
  sessionExpiresAt: string;
  secondFactorAt: string;
  /** A code was entered within TEAM_POLICY.freshFactorMs of this request: client data is open. */
  freshSecondFactor: boolean;
}

/**
 * Where a sign-in comes from: the owner-only unix socket (only local users with its file permissions reach
 * it) or TCP. Each counts its wrong codes apart: guessing over TCP never locks the socket, so the kill switch
 * (`fleet kill`, which needs a session) stays reachable for ops on the machine during an incident.
 */
export type SignInChannel = 'socket' | 'tcp';

/** The timings of sessions and sign-in; constants, so every orchestrator of a fleet behaves the same. */
export const TEAM_POLICY = {
  /** A session ends this long after sign-in, whatever the activity. */
  sessionAbsoluteMs: 8 * 3_600_000,
  /** A session ends after this long without a request. */
  sessionIdleMs: 60 * 60_000,
  /** Actions on client data need a code entered within this time. */
  freshFactorMs: 15 * 60_000,
  /** An enrolment code is usable once, within this time. */
  enrolmentMs: 24 * 3_600_000,
  /** Wrong codes per member and channel within the window before sign-in there is refused for as long. */
  lockout: { maxFailures: 5, windowMs: 15 * 60_000 },
} as const;

const MEMBER_NAME = /^[a-z0-9](?:[a-z0-9._@+-]{0,62}[a-z0-9])?$/;
const EMAIL =
  /^[^\s@]{1,64}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)+$/;

/** A member name as the ops log shows it: lower-case letters, digits and . _ @ + -, at most 64. */
export function parseMemberName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (!MEMBER_NAME.test(name)) {
    throw new FleetError(
      'invalid_input',
      `invalid member name ${JSON.stringify(raw)}: 1-64 lower-case letters, digits and . _ @ + -, starting and ending with a letter or digit`,
    );
  }
  return name;
}

export function parseMemberEmail(raw: unknown): string {
  const email = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if (email.length > 254 || !EMAIL.test(email))
    throw new FleetError('invalid_input', `invalid email address ${JSON.stringify(raw)}`);
  return email;
}

/** Whether a code entered at `secondFactorAt` is recent enough to touch client data now. */
export function isFreshSecondFactor(secondFactorAt: string, now: Date): boolean {
  return now.getTime() - Date.parse(secondFactorAt) <= TEAM_POLICY.freshFactorMs;
}
