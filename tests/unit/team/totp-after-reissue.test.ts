// A code of a member's lost authenticator checked just before `fleet team reissue` and recorded just after
// it: the record was tied to the member only, not to the secret that verified the code, so the old code
// made the reissued member active again (and recorded as signed in) under a secret nobody holds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { generate } from 'otplib';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { memoryTeamStore } from './memory-team-store.ts';

test('a code of the secret a reissue replaced is refused and leaves the member enrolling', async () => {
  const store = memoryTeamStore();
  let now = new Date('2026-03-02T10:00:00.000Z');
  const clock = { now: () => now };
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  await store.members.addMember({ name: 'bob', email: 'bob@agency.example', addedAt: now, addedBy: 'alice' }, { onlyIfEmpty: false });
  const { secret } = await totp.newSecret((await store.members.getMember('bob'))!);
  const codeAt = () => generate({ secret, epoch: Math.floor(now.getTime() / 1000) });
  assert.equal(await totp.accept((await store.members.getMember('bob'))!, await codeAt()), true, 'enrolled');

  now = new Date(now.getTime() + 60_000);
  const readBeforeReissue = (await store.members.getMember('bob'))!;
  await totp.revoke(readBeforeReissue);
  assert.equal(await totp.accept(readBeforeReissue, await codeAt()), false);
  const bob = await store.members.getMember('bob');
  assert.equal(bob?.status, 'enrolling');
  assert.equal(bob?.lastTimeStep, null);
});
