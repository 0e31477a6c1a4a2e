import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { StoredMember, StoredTeamSession, TeamStore } from '../../../orchestrator/src/ports/team-store.ts';
import { nextFailureState, type FailureState } from '../../../orchestrator/src/portal/identity/lockout.ts';

/**
 * The team store in memory for unit tests, each call taking a turn of the event loop as a database would
 * (so that requests running together interleave as they do on the registry).
 */
export function memoryTeamStore(): TeamStore & { sessionList: StoredTeamSession[] } {
  const members = new Map<string, StoredMember>();
  const enrolments = new Map<string, { member: string; expiresAt: Date; used: boolean }>();
  /** Failure counts by `<channel>:<member>`. */
  const failures = new Map<string, FailureState>();
  const sessionList: StoredTeamSession[] = [];
  /** Removes the member with their sessions and failure counts; whether there was one. */
  const forget = (name: string): boolean => {
    for (let index = sessionList.length - 1; index >= 0; index -= 1)
      if (sessionList[index]?.member === name) sessionList.splice(index, 1);
    for (const key of [...failures.keys()]) if (key.endsWith(`:${name}`)) failures.delete(key);
    return members.delete(name);
  };
  return {
    sessionList,
    members: {
      async addMember(member, options) {
        await yieldToIo();
        if (options.onlyIfEmpty && members.size > 0) return 'not-empty';
        if (members.has(member.name)) return 'exists';
        members.set(member.name, {
          name: member.name,
          email: member.email,
          status: 'enrolling',
          addedAt: member.addedAt.toISOString(),
          addedBy: member.addedBy,
          enrolledAt: null,
          lastLoginAt: null,
          totpSealed: null,
          lastTimeStep: null,
        });
        return 'added';
      },
      async getMember(name) {
        await yieldToIo();
        const member = members.get(name);
        return member ? { ...member } : null;
      },
      async listMembers() {
        await yieldToIo();
        return [...members.values()].map((member) => ({ ...member }));
      },
      async removeMember(name) {
        await yieldToIo();
        return forget(name);
      },
      async removeMemberUnlessLast(name) {
        await yieldToIo();
        if (!members.has(name)) return 'absent';
        if (members.size <= 1) return 'last';
        forget(name);
        return 'removed';
      },
      async createEnrolment(member, codeHash, expiresAt) {
        await yieldToIo();
        for (const [hash, enrolment] of enrolments) if (enrolment.member === member) enrolments.delete(hash);
        enrolments.set(codeHash, { member, expiresAt, used: false });
      },
      async consumeEnrolment(member, codeHash, now) {
        await yieldToIo();
        const enrolment = enrolments.get(codeHash);
        if (!enrolment || enrolment.member !== member || enrolment.used || enrolment.expiresAt.getTime() <= now.getTime()) return false;
        enrolment.used = true;
        return true;
      },
      async setTotpSecret(name, sealed) {
        await yieldToIo();
        const member = members.get(name);
        if (member) Object.assign(member, { totpSealed: sealed, lastTimeStep: null, status: 'enrolling' });
      },
      async recordTotpUse(name, sealed, step, at) {
        await yieldToIo();
        const member = members.get(name);
        if (!member || member.totpSealed !== sealed || (member.lastTimeStep !== null && member.lastTimeStep >= step))
          return false;
        Object.assign(member, {
          lastTimeStep: step,
          lastLoginAt: at.toISOString(),
          status: 'active',
          enrolledAt: member.enrolledAt ?? at.toISOString(),
        });
        return true;
      },
      async lockedUntil(name, channel, now) {
        await yieldToIo();
        const until = failures.get(`${channel}:${name}`)?.lockedUntil;
        return until && until.getTime() > now.getTime() ? until : null;
      },
      async recordFailure(name, channel, now, policy) {
        await yieldToIo();
        if (!members.has(name)) return null;
        const next = nextFailureState(failures.get(`${channel}:${name}`) ?? null, now, policy);
        failures.set(`${channel}:${name}`, next);
        return next.lockedUntil;
      },
      async clearFailures(name, channel) {
        await yieldToIo();
        failures.delete(`${channel}:${name}`);
      },
    },
    sessions: {
      async createSession(session) {
        await yieldToIo();
        sessionList.push({ ...session });
      },
      async getSession(tokenHash) {
        await yieldToIo();
        const session = sessionList.find((candidate) => candidate.tokenHash === tokenHash);
        return session ? { ...session } : null;
      },
      async touchSession(tokenHash, at) {
        await yieldToIo();
        const session = sessionList.find((candidate) => candidate.tokenHash === tokenHash);
        if (session) session.lastSeenAt = at.toISOString();
      },
      async markSecondFactor(tokenHash, at) {
        await yieldToIo();
        const session = sessionList.find((candidate) => candidate.tokenHash === tokenHash);
        if (session) session.secondFactorAt = at.toISOString();
      },
      async deleteSession(tokenHash) {
        await yieldToIo();
        const index = sessionList.findIndex((candidate) => candidate.tokenHash === tokenHash);
        if (index >= 0) sessionList.splice(index, 1);
      },
      async endSessions(name) {
        await yieldToIo();
        let ended = 0;
        for (let index = sessionList.length - 1; index >= 0; index -= 1) {
          if (sessionList[index]?.member === name) {
            sessionList.splice(index, 1);
            ended += 1;
          }
        }
        return ended;
      },
    },
  };
}
