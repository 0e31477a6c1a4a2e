// Team identities over an in-memory store: what a lost authenticator, a removed member and a guessed code
// can still do on the ops API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { generate } from 'otplib';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamSessions } from '../../../orchestrator/src/services/team/team-sessions.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { memoryTeamStore } from './memory-team-store.ts';

const STEP_MS = 30_000;

function team() {
  const store = memoryTeamStore();
  let now = new Date('2026-03-02T10:00:00.000Z');
  const clock = { now: () => now };
  const opsLog: { actor: string; action: string; details: Record<string, unknown> }[] = [];
  const registry = {
    appendOpsLog: async (entry: { actor: string; action: string; details: Record<string, unknown> }) => {
      opsLog.push(entry);
    },
  } as unknown as Registry;
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  const members = new TeamMembers({ store, totp, registry, clock });
  const sessions = new TeamSessions({ store, totp, registry, clock });
  const codeOf = (secret: string) => generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
  const advance = (ms: number) => {
    now = new Date(now.getTime() + ms);
  };
  return { store, members, sessions, codeOf, advance, opsLog };
}

/** A member enrolled and signed in once: their authenticator's secret. */
async function enrolled(t: ReturnType<typeof team>, name: string, bootstrap: boolean): Promise<string> {
  const added = await t.members.add({ name, email: `${name}@agency.example`, actor: 'alice', bootstrap });
  const { secret } = await t.members.enrol({ name, code: added.enrolment.code });
  await t.sessions.login(name, await t.codeOf(secret));
  t.advance(STEP_MS);
  return secret;
}

describe('a lost authenticator (fleet team reissue)', () => {
  test('stops working at once: the old app’s codes open no session; the new enrolment does', async () => {
    const t = team();
    await enrolled(t, 'alice', true);
    const lost = await enrolled(t, 'bob', false);
    const reissued = await t.members.reissue({ name: 'bob', actor: 'alice' });
    await assert.rejects(
      t.sessions.login('bob', await t.codeOf(lost)),
      /wrong member name or code/,
      'whoever has the lost phone cannot sign in with it',
    );
    assert.equal(reissued.member.status, 'enrolling', 'the member sets up the new authenticator next');
    assert.equal(t.store.sessionList.filter((session) => session.member === 'bob').length, 0);
    const { secret } = await t.members.enrol({ name: 'bob', code: reissued.enrolment.code });
    t.advance(STEP_MS);
    const session = await t.sessions.login('bob', await t.codeOf(secret));
    assert.equal((await t.sessions.authenticate(session.token))?.member, 'bob');
    assert.equal(t.opsLog.find((entry) => entry.action === 'team-reissue')?.details['authenticatorRevoked'], true);
  });
});

describe('the last member stays', () => {
  test('two removals at once (each member removing the other) leave one member, so setup never reopens', async () => {
    const t = team();
    await enrolled(t, 'alice', true);
    await enrolled(t, 'bob', false);
    const outcomes = await Promise.allSettled([
      t.members.remove({ name: 'bob', actor: 'alice' }),
      t.members.remove({ name: 'alice', actor: 'bob' }),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['fulfilled', 'rejected'],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /last team member/);
    assert.equal(await t.members.count(), 1);
  });
});
