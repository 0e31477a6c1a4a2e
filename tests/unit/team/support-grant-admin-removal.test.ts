// A support grant lasts as long as the admin who approved it speaks for the client. It was ended only when
// something read it after the admin's removal: an admin removed and made an admin again before any read left
// the grant standing. The change of admins ends the grants of the removed ones when it is recorded.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SUPPORT_ACTIONS, SUPPORT_SYSTEM_ACTOR, SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';

const BOSS = 'boss@acme.example';
const DEPUTY = 'deputy@acme.example';

function fleet() {
  let now = START;
  const clock = { now: () => now };
  const opsLog = new MemoryOpsRegistry();
  let admins = [BOSS, DEPUTY];
  const registry = {
    getClient: (id: string) =>
      Promise.resolve(id === 'acme' ? { id, provider: 'gmail', status: 'active', configYaml: `client: acme\nadmins:\n${admins.map((admin) => `  - ${admin}\n`).join('')}` } : null),
    listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
    appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? now.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? now.toISOString() }, guard),
  } as unknown as Registry;
  const support = new SupportAccessService({ registry, clock });
  /** What recording a config change does: the registry's copy follows, then the removed admins' grants end. */
  const setAdmins = async (next: string[]) => {
    admins = next;
    return support.endGrantsOfFormerAdmins('acme', next);
  };
  const grantFor = async (member: string, by: string) => {
    const grant = await support.request({ clientId: 'acme', member, incident: 'INC-7', reason: 'a stuck draft', actor: member });
    await support.approve({ clientId: 'acme', grantId: grant.id, by, actor: `client-admin:${by}` });
    return grant.id;
  };
  return {
    support,
    /** Another orchestrator's service on the same registry (its own one-at-a-time queue). */
    secondService: () => new SupportAccessService({ registry, clock }),
    setAdmins,
    grantFor,
    revocations: () => opsLog.entries.filter((entry) => entry.action === SUPPORT_ACTIONS.revoke),
    advanceMinutes: (minutes: number) => void (now = new Date(now.getTime() + minutes * 60_000)),
    now: () => now,
  };
}

describe('removing a client admin ends the grants they approved, at the removal', () => {
  test('an admin removed and made an admin again before anything read the grant does not bring it back', async () => {
    const t = fleet();
    const byBoss = await t.grantFor('alice', BOSS);
    const byDeputy = await t.grantFor('bob', DEPUTY);
    t.advanceMinutes(10);
    const removedAt = t.now().toISOString();
    const ended = await t.setAdmins([DEPUTY]);
    assert.deepEqual(ended.map((grant) => grant.id), [byBoss]);
    t.advanceMinutes(5);
    await t.setAdmins([BOSS, DEPUTY]);

    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), false);
    assert.equal(await t.support.hasActiveGrant('acme', 'bob'), true, 'the remaining admin’s approval stands');
    const listed = await t.support.list('acme');
    assert.equal(listed.find((grant) => grant.id === byBoss)?.revokedAt, removedAt, 'ended when the admin was removed');
    assert.equal(listed.find((grant) => grant.id === byDeputy)?.status, 'active');
    const logged = t.revocations();
    assert.equal(logged.length, 1);
    assert.deepEqual([logged[0]?.actor, logged[0]?.details['grantId'], logged[0]?.details['approvedBy']], [SUPPORT_SYSTEM_ACTOR, byBoss, BOSS]);
  });

  test('admins are compared as the config keeps them, whatever their case; pending requests wait for an admin', async () => {
    const t = fleet();
    await t.grantFor('alice', BOSS);
    const pending = await t.support.request({ clientId: 'acme', member: 'bob', incident: 'INC-7', reason: 'a stuck draft', actor: 'bob' });
    assert.deepEqual(await t.setAdmins(['Boss@Acme.Example']), []);
    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), true);
    assert.equal((await t.support.list('acme')).find((grant) => grant.id === pending.id)?.status, 'pending');
    assert.equal(t.revocations().length, 0);
  });

  test('the removal and reads running together log one revocation', async () => {
    const t = fleet();
    await t.grantFor('alice', BOSS);
    const [ended, ...answers] = await Promise.all([t.setAdmins([DEPUTY]), ...Array.from({ length: 5 }, () => t.support.hasActiveGrant('acme', 'alice'))]);
    assert.equal(ended.length, 1);
    assert.deepEqual(new Set(answers), new Set([false]));
    assert.equal(t.revocations().length, 1);
  });
});

describe('two orchestrators on one registry', () => {
  test('approvals sent to both at once: the first in the ops log counts, the other is told it changed nothing', async () => {
    const t = fleet();
    const other = t.secondService();
    const grant = await t.support.request({ clientId: 'acme', member: 'alice', incident: 'INC-7', reason: 'a stuck draft', actor: 'alice' });
    const answers = await Promise.allSettled([
      t.support.approve({ clientId: 'acme', grantId: grant.id, by: BOSS, actor: `client-admin:${BOSS}` }),
      other.approve({ clientId: 'acme', grantId: grant.id, by: DEPUTY, actor: `client-admin:${DEPUTY}` }),
    ]);
    const approved = answers.filter((answer) => answer.status === 'fulfilled').map((answer) => answer.value);
    const refused = answers.filter((answer) => answer.status === 'rejected').map((answer) => answer.reason as unknown);
    assert.equal(approved.length, 1);
    assert.equal(refused.length, 1);
    assert.ok(isFleetError(refused[0]) && refused[0].code === 'conflict');
    const [listed] = await t.support.list('acme');
    assert.equal(listed?.approvedBy, approved[0]?.approvedBy, 'the approval its caller was told of is the one that counts');
  });
});
