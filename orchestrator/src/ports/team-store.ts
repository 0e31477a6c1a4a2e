import type { SignInChannel, TeamMember } from '../domain/team-member.ts';

/**
 * Where the team's identities live: members with their sealed TOTP secret, single-use enrolment codes and
 * sign-in sessions. Callers hand it only hashes of tokens (sha256 hex) and sealed secrets: the store never
 * sees a session token, an enrolment code or a TOTP secret in the clear.
 */

export interface StoredMember extends TeamMember {
  /** The TOTP secret sealed by the team key; null until the member runs their enrolment. */
  totpSealed: string | null;
  /** Last TOTP time step accepted: a code of that step or before is a replay. */
  lastTimeStep: number | null;
}

export interface NewMember {
  name: string;
  email: string;
  addedAt: Date;
  addedBy: string;
}

export interface StoredTeamSession {
  tokenHash: string;
  member: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  /** When this session last proved a code (sign-in or refresh). */
  secondFactorAt: string;
}

export interface MemberStore {
  /**
   * Adds a member. `onlyIfEmpty` (the bootstrap over the owner-only socket) adds only while the team has
   * no member, atomically: two first adds cannot both succeed.
   */
  addMember(member: NewMember, options: { onlyIfEmpty: boolean }): Promise<'added' | 'exists' | 'not-empty'>;
  getMember(name: string): Promise<StoredMember | null>;
  listMembers(): Promise<StoredMember[]>;
  /** Removes the member with their sessions and enrolment codes; false when there was none. */
  removeMember(name: string): Promise<boolean>;
  /**
   * Removes the member as removeMember does, unless they are the team's last member, decided atomically:
   * two removals at once (two orchestrators on one registry) cannot leave the team empty.
   */
  removeMemberUnlessLast(name: string): Promise<'removed' | 'absent' | 'last'>;
  /** Keeps a new single-use enrolment code (hashed) for the member, replacing any earlier one. */
  createEnrolment(member: string, codeHash: string, expiresAt: Date): Promise<void>;
  /**
   * Uses `member`'s enrolment code once: true on the first call for their unused, unexpired code. A code
   * presented under another name is not used up (a mistyped name must not cost the member their code).
   */
  consumeEnrolment(member: string, codeHash: string, now: Date): Promise<boolean>;
  /** Stores the member's sealed TOTP secret (their enrolment); the member stays enrolling until a first code. */
  setTotpSecret(member: string, sealed: string): Promise<void>;
  /**
   * Records a code accepted by the secret sealed as `sealed`: that secret must still be the member's, and the
   * time step must be later than the last one (false, nothing recorded, otherwise: a replayed code, or a code
   * of a secret replaced meanwhile by a reissue or a new enrolment, is refused). The first accepted code makes
   * the member active.
   */
  recordTotpUse(member: string, sealed: string, timeStep: number, at: Date): Promise<boolean>;
  /**
   * When sign-in of this member over `channel` is refused after too many wrong codes there; null when it is
   * not. Each channel counts apart: wrong codes over TCP never refuse the socket, nor the other way round.
   */
  lockedUntil(member: string, channel: SignInChannel, now: Date): Promise<Date | null>;
  /**
   * Counts a wrong code over `channel` (atomically: failures recorded together are all counted); returns
   * the lockout end when this failure reached the limit. Nothing is counted for an unknown member.
   */
  recordFailure(
    member: string,
    channel: SignInChannel,
    now: Date,
    policy: { maxFailures: number; windowMs: number },
  ): Promise<Date | null>;
  clearFailures(member: string, channel: SignInChannel): Promise<void>;
}

export interface TeamSessionStore {
  createSession(session: StoredTeamSession): Promise<void>;
  getSession(tokenHash: string): Promise<StoredTeamSession | null>;
  touchSession(tokenHash: string, at: Date): Promise<void>;
  /** Records that the session's member entered a code now. */
  markSecondFactor(tokenHash: string, at: Date): Promise<void>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Ends every session of the member; returns how many. */
  endSessions(member: string): Promise<number>;
}

export interface TeamStore {
  members: MemberStore;
  sessions: TeamSessionStore;
}
