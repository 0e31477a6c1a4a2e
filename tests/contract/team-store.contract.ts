// The team store's behaviour, the same on every adapter (the registry's SQL on PGlite, the unit tests'
// memory store), so that what the team services rely on holds wherever members are kept.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TeamStore } from '../../orchestrator/src/ports/team-store.ts';

/** One team store under test, empty, and how to let it go. */
export interface TeamStoreTarget {
  store: TeamStore;
  close(): Promise<void>;
}

const T0 = new Date('2026-12-01T08:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
/** A stand-in for a sealed secret: the store compares it and never opens it. */
const sealedSecret = () => `ps1.${randomBytes(24).toString('base64url')}`;

export function describeTeamStoreContract(name: string, open: () => Promise<TeamStoreTarget>): void {
  describe(`team store contract: ${name}`, () => {
    let target: TeamStoreTarget;
    let added = 0;
    before(async () => {
      target = await open();
    });
    after(() => target?.close());

    /** A new member, enrolling, with no secret yet. */
    async function newMember(): Promise<string> {
      added += 1;
      const member = `member-${added}`;
      const outcome = await target.store.members.addMember(
        { name: member, email: `${member}@agency.example`, addedAt: T0, addedBy: 'owner' },
        { onlyIfEmpty: false },
      );
      assert.equal(outcome, 'added');
      return member;
    }

    test('of two removals at once, the one that would empty the team is refused', async () => {
      const own = await open();
      try {
        for (const name of ['ann', 'ben'])
          await own.store.members.addMember({ name, email: `${name}@agency.example`, addedAt: T0, addedBy: 'owner' }, { onlyIfEmpty: false });
        const outcomes = await Promise.all([own.store.members.removeMemberUnlessLast('ann'), own.store.members.removeMemberUnlessLast('ben')]);
        assert.deepEqual([...outcomes].sort(), ['last', 'removed']);
        assert.equal((await own.store.members.listMembers()).length, 1);
        assert.equal(await own.store.members.removeMemberUnlessLast('nobody'), 'absent');
      } finally {
        await own.close();
      }
    });

    test('a code is recorded once per time step, and only later steps after it', async () => {
      const { members } = target.store;
      const member = await newMember();
      const sealed = sealedSecret();
      assert.equal(await members.recordTotpUse(member, sealed, 100, at(1)), false, 'no secret yet');
      await members.setTotpSecret(member, sealed);
      assert.equal(await members.recordTotpUse(member, sealed, 100, at(1)), true);
      assert.equal(await members.recordTotpUse(member, sealed, 100, at(1)), false, 'replayed');
      assert.equal(await members.recordTotpUse(member, sealed, 99, at(1)), false, 'an older step');
      assert.equal(await members.recordTotpUse(member, sealed, 101, at(2)), true, 'the next step');
      const stored = await members.getMember(member);
      assert.deepEqual(
        [stored?.status, stored?.lastTimeStep, stored?.enrolledAt, stored?.lastLoginAt],
        ['active', 101, at(1).toISOString(), at(2).toISOString()],
      );
    });

    test('a code of a secret replaced since (a reissue) is not recorded and leaves the member enrolling', async () => {
      const { members } = target.store;
      const member = await newMember();
      const lost = sealedSecret();
      await members.setTotpSecret(member, lost);
      assert.equal(await members.recordTotpUse(member, lost, 100, at(1)), true);
      const replacement = sealedSecret();
      await members.setTotpSecret(member, replacement);
      assert.equal(await members.recordTotpUse(member, lost, 200, at(2)), false, 'the lost secret’s code');
      const stored = await members.getMember(member);
      assert.deepEqual(
        [stored?.status, stored?.lastTimeStep, stored?.lastLoginAt, stored?.totpSealed],
        ['enrolling', null, at(1).toISOString(), replacement],
      );
      assert.equal(await members.recordTotpUse(member, replacement, 200, at(3)), true, 'the new secret’s code');
      assert.equal((await members.getMember(member))?.status, 'active');
    });

    test('an enrolment code is used once, by its own member only: under another name it is refused and kept', async () => {
      const { members } = target.store;
      const [owner, other] = [await newMember(), await newMember()];
      await members.createEnrolment(owner, 'enrolment-hash', at(60));
      assert.equal(await members.consumeEnrolment(other, 'enrolment-hash', at(1)), false, 'another member’s name');
      assert.equal(await members.consumeEnrolment(`${owner}-typo`, 'enrolment-hash', at(1)), false, 'a mistyped name');
      assert.equal(await members.consumeEnrolment(owner, 'enrolment-hash', at(2)), true, 'still usable by its member');
      assert.equal(await members.consumeEnrolment(owner, 'enrolment-hash', at(3)), false, 'once');
      await members.createEnrolment(owner, 'late-hash', at(60));
      assert.equal(await members.consumeEnrolment(owner, 'late-hash', at(61)), false, 'expired');
    });

    test('a code names its member: another member’s secret records nothing', async () => {
      const { members } = target.store;
      const [first, second] = [await newMember(), await newMember()];
      const firstSecret = sealedSecret();
      await members.setTotpSecret(first, firstSecret);
      await members.setTotpSecret(second, sealedSecret());
      assert.equal(await members.recordTotpUse(second, firstSecret, 100, at(1)), false);
      assert.equal((await members.getMember(second))?.status, 'enrolling');
      assert.equal(await members.recordTotpUse('nobody', firstSecret, 100, at(1)), false, 'an unknown member');
    });
  });
}
