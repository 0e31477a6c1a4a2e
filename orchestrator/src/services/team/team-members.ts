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
  private readonly changes = new Mutex();

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
    if (outcome === 'exists')
      throw new FleetError(
        'conflict',
        `${name} is already a team member (a lost or expired enrolment code: fleet team reissue ${name})`,
      );
    const enrolment = await this.recordedOrUndone(name, async () => {
      const issued = await this.issueEnrolment(name, now);
      await this.log(actor, MEMBER_IDENTITY_ACTIONS.add, {
        member: name,
        email,
        bootstrap: input.bootstrap,
        enrolmentExpiresAt: issued.expiresAt,
      });
      return issued;
    });
    return { member: publicView(await this.existing(name)), enrolment, bootstrap: input.bootstrap };
  }

  /**
   * An addition is recorded in the ops log or undone: a member added without their entry, whose enrolment
   * code was never shown, could not be added again ("already a member"), and a first member so added would
   * close the bootstrap to everyone.
   */
  private async recordedOrUndone<T>(name: string, record: () => Promise<T>): Promise<T> {
    try {
      return await record();
    } catch (error) {
      const undone = await this.deps.store.members.removeMember(name).then(
        () => true,
        () => false,
      );
      throw new FleetError(
        'unavailable',
        undone
          ? `${name} was not added: the ops log could not record it (try fleet team add again once the registry answers)`
          : `${name} was added, but neither recorded in the ops log nor undone: fleet team reissue ${name} once the registry answers gives them an enrolment code`,
        { retryable: true, cause: error },
      );
    }
  }

  /**
   * A new enrolment code for a member who lost their authenticator: the lost one stops working and their
   * sessions end at once (whoever finds the phone signs in with it no more). The reissue is in the ops log
   * before the new code exists: whoever enrols with it is a new identity, and support grants of the name end
   * with that entry (support-access.ts).
   */
  async reissue(input: { name: unknown; actor: string }): Promise<AddedMember> {
    const name = parseMemberName(input.name);
    return this.changes.run(() => this.reissueOne(name, input.actor));
  }

  private async reissueOne(name: string, actor: string): Promise<AddedMember> {
    const member = await this.existing(name);
    await this.stillOnTeam(actor);
    await this.deps.totp.revoke(member);
    const ended = await this.deps.store.sessions.endSessions(member.name);
    await this.recorded(
      () =>
        this.log(actor, MEMBER_IDENTITY_ACTIONS.reissue, {
          member: member.name,
          sessionsEnded: ended,
          authenticatorRevoked: true,
        }),
      `${name}'s authenticator is revoked and their sessions ended (${ended}), but the ops log could not record the reissue, so no enrolment code was made: run fleet team reissue ${name} again once the registry answers`,
    );
    const enrolment = await this.issueEnrolment(member.name, this.deps.clock.now()).catch((error: unknown) => {
      throw new FleetError(
        'unavailable',
        `the reissue of ${name} is recorded, their authenticator revoked and sessions ended, but no enrolment code could be kept: run fleet team reissue ${name} again`,
        { retryable: true, cause: error },
      );
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
   * again). Changes of the team run one at a time: two removals at once could each see the other member and
   * leave none, and a change queued behind the removal of its own actor must not run as a removed member.
   */
  async remove(input: { name: unknown; actor: string }): Promise<{ member: string; sessionsEnded: number }> {
    const name = parseMemberName(input.name);
    return this.changes.run(() => this.removeOne(name, input.actor));
  }

  /**
   * The removal is in the ops log before the member leaves the team store: support grants of the name end
   * only by that entry (support-access.ts), so no read may find the member gone and their grants standing.
   * A failure part way leaves the member signed out and either not removed (no entry) or removed as
   * recorded once the removal is run again.
   */
  private async removeOne(name: string, actor: string): Promise<{ member: string; sessionsEnded: number }> {
    await this.existing(name);
    if ((await this.count()) <= 1)
      throw new FleetError('conflict', `${name} is the last team member; add another before removing them`);
    await this.stillOnTeam(actor);
    const sessionsEnded = await this.deps.store.sessions.endSessions(name);
    await this.recorded(
      () => this.log(actor, MEMBER_IDENTITY_ACTIONS.remove, { member: name, sessionsEnded }),
      `${name} was not removed: the ops log could not record it (their sessions ended: ${sessionsEnded}); run fleet team remove ${name} again once the registry answers`,
    );
    const removed = await this.deps.store.members.removeMemberUnlessLast(name).catch((error: unknown) => {
      throw new FleetError(
        'unavailable',
        `the removal of ${name} is recorded and their sessions and support grants have ended, but ${name} is still in the team store: run fleet team remove ${name} again`,
        { retryable: true, cause: error },
      );
    });
    // Another removal (another orchestrator on the registry) took the other members meanwhile.
    if (removed === 'last')
      throw new FleetError(
        'conflict',
        `${name} is now the last team member (another removal ran at the same moment) and stays on the team, signed out, their support grants ended: add another member before removing them`,
      );
    return { member: name, sessionsEnded };
  }

  /** The member making a change is still on the team when it runs (a removal queued before may have taken them off). */
  private async stillOnTeam(actor: string): Promise<void> {
    if (!(await this.isMember(actor)))
      throw new FleetError('unauthorized', `${actor} is no longer a team member: the change was not made`);
  }

  /** Runs `record` (an ops-log append); its failure becomes one plain message of what happened and what to do. */
  private async recorded(record: () => Promise<void>, failed: string): Promise<void> {
    try {
      await record();
    } catch (error) {
      throw new FleetError('unavailable', failed, { retryable: true, cause: error });
    }
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
