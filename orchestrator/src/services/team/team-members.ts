import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { parseMemberEmail, parseMemberName, TEAM_POLICY, type TeamMember } from '../../domain/team-member.ts';
import { newToken, tokenHash } from '../../portal/crypto/tokens.ts';
import { Mutex } from '../mutex.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Registry } from '../../ports/registry.ts';
import type { StoredMember, TeamStore } from '../../ports/team-store.ts';
import type { TeamTotp } from './team-totp.ts';

/** What `fleet team add` shows once: the code the new member sets up their authenticator with. */
export interface AddedMember {
  member: TeamMember;
  enrolment: { code: string; expiresAt: string };
  /** True for the first member, added without a session over the owner-only socket. */
  bootstrap: boolean;
}

/** The actor of the bootstrap: no member exists yet; the owner-only socket's file permissions vouch for the caller. */
export const BOOTSTRAP_ACTOR = 'bootstrap@socket';

/**
 * Ops-log actions after which a member name stands for another identity (or none): added, removed, or
 * their authenticator replaced (whoever enrols with the new code is not proven to be the same person).
 * Support grants requested for the name before one of them end with it (support-access.ts).
 */
export const MEMBER_IDENTITY_ACTIONS = {
  add: 'team-add',
  remove: 'team-remove',
  reissue: 'team-reissue',
} as const;

const publicView = ({ totpSealed: _sealed, lastTimeStep: _step, ...member }: StoredMember): TeamMember =>
  member;

export interface TeamMembersDependencies {
  store: TeamStore;
  totp: TeamTotp;
  registry: Registry;
  clock: Clock;
  /** Counts a refused enrolment code (fleet_api_auth_failures_total, surface api). */
  onRefused?: (() => void) | undefined;
}

/**
 * The team: named members, each added by another member (the first one over the owner-only socket, once),
 * each setting up TOTP with a single-use enrolment code valid 24 hours. Every change is in the ops log.
 */
export class TeamMembers {
  private readonly deps: TeamMembersDependencies;
  private readonly removals = new Mutex();

  constructor(deps: TeamMembersDependencies) {
    this.deps = deps;
  }

  /** `bootstrap`: no session, on the socket; allowed only while the team is empty (else forbidden). */
  async add(input: {
    name: unknown;
    email: unknown;
    actor: string;
    bootstrap: boolean;
  }): Promise<AddedMember> {
    const name = parseMemberName(input.name);
    const email = parseMemberEmail(input.email);
    const now = this.deps.clock.now();
    const actor = input.bootstrap ? BOOTSTRAP_ACTOR : input.actor;
    const outcome = await this.deps.store.members.addMember(
      { name, email, addedAt: now, addedBy: actor },
      { onlyIfEmpty: input.bootstrap },
    );
    if (outcome === 'not-empty') {
      throw new FleetError(
        'unauthorized',
        'the team has members: sign in first (fleet login <member>); only the first member is added without a session',
      );
    }
    if (outcome === 'exists') throw new FleetError('conflict', `${name} is already a team member`);
    const enrolment = await this.issueEnrolment(name, now);
    await this.log(actor, MEMBER_IDENTITY_ACTIONS.add, {
      member: name,
      email,
      bootstrap: input.bootstrap,
      enrolmentExpiresAt: enrolment.expiresAt,
    });
    return { member: publicView(await this.existing(name)), enrolment, bootstrap: input.bootstrap };
  }

  /**
   * A new enrolment code for a member who lost their authenticator: the lost one stops working and their
   * sessions end at once (whoever finds the phone signs in with it no more).
   */
  async reissue(input: { name: unknown; actor: string }): Promise<AddedMember> {
    const member = await this.existing(parseMemberName(input.name));
    await this.deps.totp.revoke(member);
    const ended = await this.deps.store.sessions.endSessions(member.name);
    const enrolment = await this.issueEnrolment(member.name, this.deps.clock.now());
    await this.log(input.actor, MEMBER_IDENTITY_ACTIONS.reissue, {
      member: member.name,
      sessionsEnded: ended,
      authenticatorRevoked: true,
    });
    return { member: publicView(await this.existing(member.name)), enrolment, bootstrap: false };
  }

  async list(): Promise<TeamMember[]> {
    return (await this.deps.store.members.listMembers()).map(publicView);
  }

  /** Whether someone on the team holds exactly this name now (names are stored as `parseMemberName` gives them). */
  async isMember(name: string): Promise<boolean> {
    return (await this.deps.store.members.getMember(name)) !== null;
  }

  async count(): Promise<number> {
    return (await this.deps.store.members.listMembers()).length;
  }

  /**
   * Removes a member and ends their sessions; the last member stays (the team would be open to bootstrap
   * again). Removals run one at a time: two at once could each see the other member and leave none.
   */
  async remove(input: { name: unknown; actor: string }): Promise<{ member: string; sessionsEnded: number }> {
    const name = parseMemberName(input.name);
    return this.removals.run(() => this.removeOne(name, input.actor));
  }

  private async removeOne(name: string, actor: string): Promise<{ member: string; sessionsEnded: number }> {
    await this.existing(name);
    if ((await this.count()) <= 1)
      throw new FleetError('conflict', `${name} is the last team member; add another before removing them`);
    const sessionsEnded = await this.deps.store.sessions.endSessions(name);
    await this.deps.store.members.removeMember(name);
    await this.log(actor, MEMBER_IDENTITY_ACTIONS.remove, { member: name, sessionsEnded });
    return { member: name, sessionsEnded };
  }

  /**
   * Uses the member's enrolment code once and returns their new TOTP secret (for the authenticator app;
   * shown only now). The member becomes active with their first sign-in.
   */
  async enrol(input: {
    name: unknown;
    code: string;
  }): Promise<{ member: string; secret: string; uri: string }> {
    const name = parseMemberName(input.name);
    const used = await this.deps.store.members.consumeEnrolment(name, tokenHash(input.code.trim()), this.deps.clock.now());
    if (!used) {
      this.deps.onRefused?.();
      throw new FleetError(
        'unauthorized',
        'unknown, used or expired enrolment code (ask a team member for a new one: fleet team reissue)',
      );
    }
    const member = await this.existing(name);
    const { secret, uri } = await this.deps.totp.newSecret(member);
    await this.log(name, 'team-enrol', { member: name });
    return { member: name, secret, uri };
  }

  private async issueEnrolment(name: string, now: Date): Promise<{ code: string; expiresAt: string }> {
    const code = newToken(18);
    const expiresAt = new Date(now.getTime() + TEAM_POLICY.enrolmentMs);
    await this.deps.store.members.createEnrolment(name, tokenHash(code), expiresAt);
    return { code, expiresAt: expiresAt.toISOString() };
  }

  private async existing(name: string): Promise<StoredMember> {
    const member = await this.deps.store.members.getMember(name);
    if (member === null) throw new FleetError('not_found', `no team member ${name}`);
    return member;
  }

  private async log(actor: string, action: string, details: Record<string, unknown>): Promise<void> {
    await this.deps.registry.appendOpsLog({
      actor,
      action,
      clientId: null,
      reason: null,
      outcome: 'success',
      details,
    });
  }
}
