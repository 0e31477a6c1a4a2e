// A team member's sign-in lockout against guesses sent all at once (the owner-only socket has no rate
// limit): attempts running together all passed the "is it locked" step before the first failure was
// counted. A member's attempts (sign-in and second-factor refresh) now run one at a time.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { generate, generateSecret } from 'otplib';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { StoredMember, StoredTeamSession, TeamStore } from '../../../orchestrator/src/ports/team-store.ts';
import { seal } from '../../../orchestrator/src/portal/crypto/sealed-box.ts';
import { nextFailureState, type FailureState } from '../../../orchestrator/src/portal/identity/lockout.ts';
import { TeamSessions } from '../../../orchestrator/src/services/team/team-sessions.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';

/** The team store in memory, each call taking a turn of the event loop as a database would. */
function memoryTeam(member: StoredMember): { store: TeamStore; sessions: StoredTeamSession[] } {
  let failures: FailureState | null = null;
  const sessions: StoredTeamSession[] = [];
  const members = {
    getMember: async (name: string) => {
      await yieldToIo();
      return name === member.name ? { ...member } : null;
    },
    recordTotpUse: async (_name: string, _sealed: string, step: number) => {
      await yieldToIo();
      if (member.lastTimeStep !== null && member.lastTimeStep >= step) return false;
      member.lastTimeStep = step;
      return true;
    },
    lockedUntil: async (_name: string, _channel: string, now: Date) => {
      await yieldToIo();
      return failures?.lockedUntil && failures.lockedUntil.getTime() > now.getTime() ? failures.lockedUntil : null;
    },
    recordFailure: async (_name: string, _channel: string, now: Date, policy: { maxFailures: number; windowMs: number }) => {
      await yieldToIo();
      failures = nextFailureState(failures, now, policy);
      return failures.lockedUntil;
    },
    clearFailures: async () => {
      await yieldToIo();
      failures = null;
    },
  };
  const sessionStore = {
    createSession: async (session: StoredTeamSession) => {
      await yieldToIo();
      sessions.push(session);
    },
  };
  return { store: { members, sessions: sessionStore } as unknown as TeamStore, sessions };
}

describe('team sign-in under a burst of guesses', () => {
  test('a right code sent along with a burst of wrong ones gets no session once the wrong ones lock the member', async () => {
    const key = randomBytes(32);
    const secret = generateSecret({ length: 20 });
    const member: StoredMember = {
      name: 'alice',
      email: 'alice@agency.example',
      status: 'active',
      addedAt: '2026-01-01T00:00:00.000Z',
      addedBy: 'bootstrap@socket',
      enrolledAt: '2026-01-01T00:00:00.000Z',
      lastLoginAt: null,
      totpSealed: seal(key, secret, 'team-totp:alice'),
      lastTimeStep: null,
    };
    const { store, sessions } = memoryTeam(member);
    const now = new Date();
    const clock = { now: () => now };
    const registry = { appendOpsLog: async () => undefined } as unknown as Registry;
    const team = new TeamSessions({
      store,
      clock,
      registry,
      totp: new TeamTotp({ members: store.members, clock, sealingKey: key }),
    });
    const right = await generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
    const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
    const burst = [...Array.from({ length: 20 }, () => wrong), right];
    const outcomes = await Promise.allSettled(burst.map((code) => team.login('alice', code)));
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 0);
    assert.equal(sessions.length, 0, 'no session for a code guessed past the lockout');
    const refusals = outcomes.map((outcome) =>
      outcome.status === 'rejected' ? String((outcome.reason as Error).message) : 'signed in',
    );
    assert.equal(refusals.filter((message) => message === 'wrong member name or code').length, 4);
    assert.match(refusals[20] ?? '', /too many wrong codes for alice/);
  });
});
