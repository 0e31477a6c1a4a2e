// Support grants of a member end only by the team-remove / team-reissue entry of the ops log. The removal used
// to delete the member first and append its entry after, and the reissue made the new enrolment code before
// its entry: a failed append, or a read in between, left the grants of a name standing after its identity
// changed. The entry now comes first, and a failure part way leaves the change either undone (the member
// signed out) or recorded and finished by running it again. A first member whose addition could not be
// recorded is undone, or the bootstrap would stay closed with nobody able to sign in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import type { TeamStore } from '../../../orchestrator/src/ports/team-store.ts';
import {
  MEMBER_IDENTITY_ACTIONS,
  TeamMembers,
} from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamSessions } from '../../../orchestrator/src/services/team/team-sessions.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { memoryTeamStore } from './memory-team-store.ts';

const STEP_MS = 30_000;

function team() {
  const base = memoryTeamStore();
  const opsLog = new MemoryOpsRegistry();
  let now = START;
  const clock = { now: () => now };
  /** Ops-log actions whose append fails while listed. */
  const failingActions = new Set<string>();
  /** Store calls to fail once each. */
  const failingOnce = new Set<'removeMember'>();
  /** What the ops log held when the store was asked to remove a member or keep an enrolment code. */
  const seen: { call: 'removeMember' | 'createEnrolment'; member: string; logged: string[] }[] = [];
  const loggedFor = (member: string) =>
    opsLog.entries.filter((entry) => entry.details['member'] === member).map((entry) => entry.action);
  const registry = {
    appendOpsLog: (entry: NewOpsLogEntry) =>
      failingActions.has(entry.action)
        ? Promise.reject(new Error('the registry is unreachable'))
        : opsLog.appendOpsLog({ ...entry, at: entry.at ?? now.toISOString() }),
  } as unknown as Registry;
  const store: TeamStore & { sessionList: typeof base.sessionList } = {
    sessionList: base.sessionList,
    sessions: base.sessions,
    members: {
      ...base.members,
      removeMember: async (name) => {
        seen.push({ call: 'removeMember', member: name, logged: loggedFor(name) });
        if (failingOnce.delete('removeMember')) throw new Error('the team store is unreachable');
        return base.members.removeMember(name);
      },
      removeMemberUnlessLast: async (name) => {
        seen.push({ call: 'removeMember', member: name, logged: loggedFor(name) });
        if (failingOnce.delete('removeMember')) throw new Error('the team store is unreachable');
        return base.members.removeMemberUnlessLast(name);
      },
      createEnrolment: async (member, codeHash, expiresAt) => {
        seen.push({ call: 'createEnrolment', member, logged: loggedFor(member) });
        return base.members.createEnrolment(member, codeHash, expiresAt);
      },
    },
  };
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  const members = new TeamMembers({ store, totp, registry, clock });
  const sessions = new TeamSessions({ store, totp, registry, clock });
  const codeOf = (secret: string) => generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
  const advance = () => {
    now = new Date(now.getTime() + STEP_MS);
  };
  /** Adds, enrols and signs in `name`: their authenticator's secret and session token. */
  const enrolled = async (name: string): Promise<{ secret: string; token: string }> => {
    const bootstrap = (await members.count()) === 0;
    const added = await members.add({ name, email: `${name}@agency.example`, actor: 'alice', bootstrap });
    const { secret } = await members.enrol({ name, code: added.enrolment.code });
    const { token } = await sessions.login(name, await codeOf(secret));
    advance();
    return { secret, token };
  };
  const sessionsOf = (name: string) => store.sessionList.filter((session) => session.member === name).length;
  return {
    store,
    opsLog,
    failingActions,
    failingOnce,
    seen,
    members,
    sessions,
    codeOf,
    enrolled,
    sessionsOf,
  };
}

const unavailable = (pattern: RegExp) => (error: unknown) =>
  isFleetError(error) && error.code === 'unavailable' && error.retryable && pattern.test(error.message);

describe('fleet team remove', () => {
  test('the team-remove entry is in the ops log before the member leaves the team store', async () => {
    const t = team();
    await t.enrolled('alice');
    await t.enrolled('bob');
    await t.members.remove({ name: 'bob', actor: 'alice' });
    const removal = t.seen.find((call) => call.call === 'removeMember' && call.member === 'bob');
    assert.ok(
      removal?.logged.includes(MEMBER_IDENTITY_ACTIONS.remove),
      'bob left the store before his removal was recorded',
    );
    assert.equal(await t.members.isMember('bob'), false);
  });

  test('a removal the ops log cannot record leaves the member on the team, signed out, and says to run it again', async () => {
    const t = team();
    await t.enrolled('alice');
    const bob = await t.enrolled('bob');
    t.failingActions.add(MEMBER_IDENTITY_ACTIONS.remove);
    await assert.rejects(
      t.members.remove({ name: 'bob', actor: 'alice' }),
      unavailable(/bob was not removed.*fleet team remove bob again/),
    );
    assert.equal(
      await t.members.isMember('bob'),
      true,
      'no entry, so no removal: the grants of bob and bob himself stay together',
    );
    assert.equal(t.sessionsOf('bob'), 0);
    assert.equal(await t.sessions.authenticate(bob.token), null, 'bob’s session ended all the same');
  });

  test('a removal whose store step fails after its entry is finished by running it again', async () => {
    const t = team();
    await t.enrolled('alice');
    const bob = await t.enrolled('bob');
    t.failingOnce.add('removeMember');
    await assert.rejects(
      t.members.remove({ name: 'bob', actor: 'alice' }),
      unavailable(/removal of bob is recorded.*fleet team remove bob again/),
    );
    assert.equal(await t.sessions.authenticate(bob.token), null);
    assert.ok(
      t.opsLog.entries.some(
        (entry) => entry.action === MEMBER_IDENTITY_ACTIONS.remove && entry.details['member'] === 'bob',
      ),
    );
    await t.members.remove({ name: 'bob', actor: 'alice' });
    assert.equal(await t.members.isMember('bob'), false);
  });
});

describe('fleet team reissue', () => {
  test('the team-reissue entry is in the ops log before the new enrolment code exists', async () => {
    const t = team();
    await t.enrolled('alice');
    await t.enrolled('bob');
    await t.members.reissue({ name: 'bob', actor: 'alice' });
    const issued = t.seen.filter((call) => call.call === 'createEnrolment' && call.member === 'bob').at(-1);
    assert.ok(
      issued?.logged.includes(MEMBER_IDENTITY_ACTIONS.reissue),
      'the new code existed before the reissue was recorded',
    );
  });

  test('a reissue the ops log cannot record makes no enrolment code, and the lost authenticator stays revoked', async () => {
    const t = team();
    await t.enrolled('alice');
    const bob = await t.enrolled('bob');
    const codesBefore = t.seen.filter(
      (call) => call.call === 'createEnrolment' && call.member === 'bob',
    ).length;
    t.failingActions.add(MEMBER_IDENTITY_ACTIONS.reissue);
    await assert.rejects(
      t.members.reissue({ name: 'bob', actor: 'alice' }),
      unavailable(/no enrolment code was made.*fleet team reissue bob again/),
    );
    assert.equal(
      t.seen.filter((call) => call.call === 'createEnrolment' && call.member === 'bob').length,
      codesBefore,
    );
    assert.equal(await t.sessions.authenticate(bob.token), null);
    await assert.rejects(t.sessions.login('bob', await t.codeOf(bob.secret)), /wrong member name or code/);
  });
});

describe('the first member (bootstrap)', () => {
  test('an addition the ops log cannot record is undone, so the bootstrap can be run again', async () => {
    const t = team();
    t.failingActions.add(MEMBER_IDENTITY_ACTIONS.add);
    await assert.rejects(
      t.members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true }),
      unavailable(/alice was not added/),
    );
    assert.equal(await t.members.count(), 0);
    t.failingActions.clear();
    const added = await t.members.add({
      name: 'alice',
      email: 'alice@agency.example',
      actor: '',
      bootstrap: true,
    });
    assert.equal(added.member.name, 'alice');
  });
});

describe('a change queued behind the removal of its own actor', () => {
  test('a removal by a member removed meanwhile is refused', async () => {
    const t = team();
    await t.enrolled('alice');
    await t.enrolled('bob');
    await t.enrolled('carol');
    const [first, second] = await Promise.allSettled([
      t.members.remove({ name: 'bob', actor: 'alice' }),
      t.members.remove({ name: 'carol', actor: 'bob' }),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(second.status, 'rejected');
    assert.match(String(second.reason), /bob is no longer a team member/);
    assert.equal(await t.members.isMember('carol'), true);
  });

  test('a reissue by a member removed meanwhile is refused', async () => {
    const t = team();
    await t.enrolled('alice');
    await t.enrolled('bob');
    const carol = await t.enrolled('carol');
    const [, second] = await Promise.allSettled([
      t.members.remove({ name: 'bob', actor: 'alice' }),
      t.members.reissue({ name: 'carol', actor: 'bob' }),
    ]);
    assert.equal(second.status, 'rejected');
    assert.match(String(second.reason), /bob is no longer a team member/);
    assert.notEqual(
      await t.sessions.authenticate(carol.token),
      null,
      'carol’s session was not ended by a removed member',
    );
  });
});
