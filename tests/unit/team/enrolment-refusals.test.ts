// A wrong enrolment code was refused without being counted among refused authentications, and a code
// presented under a mistyped member name was used up: the member then needed a reissue to enrol at all.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { memoryTeamStore } from './memory-team-store.ts';

function team() {
  const store = memoryTeamStore();
  const clock = { now: () => new Date('2026-03-02T10:00:00.000Z') };
  const registry = { appendOpsLog: async () => undefined } as unknown as Registry;
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  let refusals = 0;
  const members = new TeamMembers({ store, totp, registry, clock, onRefused: () => (refusals += 1) });
  return { members, refusals: () => refusals };
}

const unauthorized = (error: unknown) => isFleetError(error) && error.code === 'unauthorized';

describe('team enrolment codes', () => {
  test('a wrong code is refused and counted; the right one is not counted', async () => {
    const t = team();
    const added = await t.members.add({ name: 'alice', email: 'alice@agency.example', bootstrap: true, actor: 'setup@socket' });
    await assert.rejects(t.members.enrol({ name: 'alice', code: `${added.enrolment.code}x` }), unauthorized);
    assert.equal(t.refusals(), 1);
    await t.members.enrol({ name: 'alice', code: added.enrolment.code });
    assert.equal(t.refusals(), 1);
  });

  test('a code presented under another member’s name is refused, counted, and still works for its member', async () => {
    const t = team();
    const alice = await t.members.add({ name: 'alice', email: 'alice@agency.example', bootstrap: true, actor: 'setup@socket' });
    await t.members.enrol({ name: 'alice', code: alice.enrolment.code });
    const bob = await t.members.add({ name: 'bob', email: 'bob@agency.example', bootstrap: false, actor: 'alice' });
    await assert.rejects(t.members.enrol({ name: 'alice', code: bob.enrolment.code }), unauthorized);
    assert.equal(t.refusals(), 1);
    const enrolled = await t.members.enrol({ name: 'bob', code: bob.enrolment.code });
    assert.equal(enrolled.member, 'bob');
  });
});
