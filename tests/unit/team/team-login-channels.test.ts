// A team member's sign-in lockout used against them: wrong codes sent by anyone who reaches the TCP ops API
// locked the member out everywhere, the owner-only socket included, and so `fleet kill` (which needs a
// session) for ops on the machine during an incident. Wrong codes now count per channel (socket, TCP).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEAM_POLICY } from '../../../orchestrator/src/domain/team-member.ts';
import { memoryTeamServices } from './memory-team-services.ts';

const STEP_MS = 30_000;
const { maxFailures } = TEAM_POLICY.lockout;

async function enrolledTeam() {
  const { members, sessions, advance, codeOf } = memoryTeamServices();
  const added = await members.add({
    name: 'alice',
    email: 'alice@agency.example',
    actor: '',
    bootstrap: true,
  });
  const { secret } = await members.enrol({ name: 'alice', code: added.enrolment.code });
  const code = () => codeOf(secret);
  const wrongCode = async () => String((Number(await code()) + 500_000) % 1_000_000).padStart(6, '0');
  return { sessions, code, wrongCode, advance };
}

describe('team sign-in lockouts per channel', () => {
  test('wrong codes over TCP lock TCP only: the member still signs in over the socket', async () => {
    const t = await enrolledTeam();
    const wrong = await t.wrongCode();
    const guesses = await Promise.allSettled(
      Array.from({ length: maxFailures + 3 }, () => t.sessions.login('alice', wrong, 'tcp')),
    );
    assert.equal(guesses.filter((guess) => guess.status === 'fulfilled').length, 0);
    await assert.rejects(
      t.sessions.login('alice', await t.code(), 'tcp'),
      /too many wrong codes for alice over TCP/,
    );
    const session = await t.sessions.login('alice', await t.code(), 'socket');
    assert.equal(session.member, 'alice', 'the socket signs in: fleet kill stays reachable');
  });

  test('the socket keeps its own limit, and a lockout there leaves TCP alone', async () => {
    const t = await enrolledTeam();
    const wrong = await t.wrongCode();
    for (let attempt = 0; attempt < maxFailures; attempt += 1)
      await assert.rejects(t.sessions.login('alice', wrong, 'socket'));
    await assert.rejects(
      t.sessions.login('alice', await t.code(), 'socket'),
      /on the local socket: codes there are refused until/,
    );
    t.advance(STEP_MS);
    const session = await t.sessions.login('alice', await t.code(), 'tcp');
    assert.equal(session.member, 'alice');
    t.advance(TEAM_POLICY.lockout.windowMs);
    assert.equal(
      (await t.sessions.login('alice', await t.code(), 'socket')).member,
      'alice',
      'the lock ends',
    );
  });

  test('second-factor refreshes count on their channel too', async () => {
    const t = await enrolledTeam();
    const session = await t.sessions.login('alice', await t.code(), 'socket');
    t.advance(STEP_MS);
    const wrong = await t.wrongCode();
    for (let attempt = 0; attempt < maxFailures; attempt += 1)
      await assert.rejects(t.sessions.refreshSecondFactor(session.token, wrong, 'tcp'));
    await assert.rejects(t.sessions.refreshSecondFactor(session.token, await t.code(), 'tcp'), /over TCP/);
    const refreshed = await t.sessions.refreshSecondFactor(session.token, await t.code(), 'socket');
    assert.equal(refreshed.freshSecondFactor, true);
  });
});
