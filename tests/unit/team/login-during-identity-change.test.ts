// A sign-in that checks a code while the member is reissued (their authenticator lost) or removed: the
// reissue or removal ends the member's sessions, and the session that sign-in creates just after must not
// survive it, or whoever holds the lost phone keeps a session the reissue was meant to end.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TeamStore } from '../../../orchestrator/src/ports/team-store.ts';
import { TeamSessions } from '../../../orchestrator/src/services/team/team-sessions.ts';
import { memoryTeamServices } from './memory-team-services.ts';

const STEP_MS = 30_000;

async function teamWithBob() {
  const { store, clock, registry, totp, members, sessions, advance, codeOf } = memoryTeamServices();
  for (const [name, bootstrap] of [
    ['alice', true],
    ['bob', false],
  ] as const) {
    const added = await members.add({ name, email: `${name}@agency.example`, actor: 'alice', bootstrap });
    const { secret } = await members.enrol({ name, code: added.enrolment.code });
    await sessions.login(name, await codeOf(secret));
    if (name === 'bob') {
      advance(STEP_MS);
      return { store, members, sessions, totp, clock, registry, bobsCode: await codeOf(secret) };
    }
  }
  throw new Error('unreachable');
}

/**
 * Bob signs in with `code` on a store where his record is read, then `change` runs to its end, then the
 * session is written (a slow database write): the interleaving two requests can have.
 */
async function signInAcross(t: Awaited<ReturnType<typeof teamWithBob>>, change: () => Promise<unknown>) {
  let changed: Promise<unknown> | undefined;
  const racing: TeamStore = {
    members: {
      ...t.store.members,
      getMember: async (name) => {
        const member = await t.store.members.getMember(name);
        changed ??= change();
        return member;
      },
    },
    sessions: {
      ...t.store.sessions,
      createSession: async (session) => {
        await changed;
        await t.store.sessions.createSession(session);
      },
    },
  };
  const sessions = new TeamSessions({ store: racing, totp: t.totp, registry: t.registry, clock: t.clock });
  const [login] = await Promise.allSettled([sessions.login('bob', t.bobsCode)]);
  await changed;
  const bobsSessions = t.store.sessionList.filter((session) => session.member === 'bob');
  const principal = login.status === 'fulfilled' ? await t.sessions.authenticate(login.value.token) : null;
  return { login, bobsSessions, principal };
}

describe('a sign-in racing a change of the member', () => {
  test('a code of the lost authenticator checked just before the reissue leaves no session', async () => {
    const t = await teamWithBob();
    const outcome = await signInAcross(t, () => t.members.reissue({ name: 'bob', actor: 'alice' }));
    assert.equal(outcome.principal, null, 'the session made with the lost authenticator is not usable');
    assert.equal(outcome.bobsSessions.length, 0);
    assert.equal(outcome.login.status, 'rejected');
  });

  test('a sign-in checked just before the member’s removal leaves no session', async () => {
    const t = await teamWithBob();
    const outcome = await signInAcross(t, () => t.members.remove({ name: 'bob', actor: 'alice' }));
    assert.equal(outcome.principal, null);
    assert.equal(outcome.bobsSessions.length, 0);
    assert.equal(outcome.login.status, 'rejected');
  });

  test('without a change in between, the sign-in works', async () => {
    const t = await teamWithBob();
    const outcome = await signInAcross(t, async () => undefined);
    assert.equal(outcome.principal?.member, 'bob');
  });
});
