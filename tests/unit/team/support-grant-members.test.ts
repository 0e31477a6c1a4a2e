// Support grants belong to the person who held a member name when the grant was requested: removing the
// member, re-adding the name or reissuing their authenticator (whoever enrols next is not proven to be
// them) ends the grant, for every reader of grants (the gate, the portal's list, the grant-read check).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { memoryTeamStore } from './memory-team-store.ts';

function fleet() {
  let now = START;
  const clock = { now: () => now };
  const opsLog = new MemoryOpsRegistry();
  opsLog.addClient('acme', 'boss@acme.example');
  // Every entry at the fleet's clock, as the orchestrator's registry writes them at its own.
  const registry = {
    getClient: (id: string) => opsLog.getClient(id),
    listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
    appendOpsLog: (entry: NewOpsLogEntry) =>
      opsLog.appendOpsLog({ ...entry, at: entry.at ?? now.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? now.toISOString() }, guard),
  } as unknown as Registry;
  const store = memoryTeamStore();
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  const members = new TeamMembers({ store, totp, registry, clock });
  const support = new SupportAccessService({ registry, clock });
  const advanceMinutes = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  const grantFor = async (member: string): Promise<string> => {
    const grant = await support.request({
      clientId: 'acme',
      member,
      incident: 'INC-7',
      reason: 'a stuck draft',
      actor: member,
    });
    await support.approve({
      clientId: 'acme',
      grantId: grant.id,
      by: 'boss@acme.example',
      actor: 'client-admin:boss@acme.example',
    });
    return grant.id;
  };
  const refused = (member: string) =>
    assert.rejects(
      support.authorize('acme', member, 'audit export'),
      (error: unknown) => isFleetError(error) && error.code === 'forbidden',
    );
  const statusOf = async (grantId: string) =>
    (await support.list('acme')).find((grant) => grant.id === grantId)?.status;
  return { members, support, advanceMinutes, grantFor, refused, statusOf };
}

async function teamOfTwo(t: ReturnType<typeof fleet>): Promise<void> {
  await t.members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true });
  await t.members.add({ name: 'bob', email: 'bob@agency.example', actor: 'alice', bootstrap: false });
}

describe('support grants and the team', () => {
  test('a removed member’s grant ends with them, and stays ended when the name is added again', async () => {
    const t = fleet();
    await teamOfTwo(t);
    const grantId = await t.grantFor('bob');
    assert.equal(
      (await t.support.authorize('acme', 'bob', 'audit export')).id,
      grantId,
      'the grant works while bob is a member',
    );
    t.advanceMinutes(5);
    await t.members.remove({ name: 'bob', actor: 'alice' });
    assert.equal(await t.statusOf(grantId), 'revoked');
    await t.refused('bob');
    t.advanceMinutes(5);
    await t.members.add({
      name: 'bob',
      email: 'someone-else@agency.example',
      actor: 'alice',
      bootstrap: false,
    });
    await t.refused('bob');
  });

  test('reissuing a member’s authenticator ends their grants: whoever enrols next asks again', async () => {
    const t = fleet();
    await teamOfTwo(t);
    const grantId = await t.grantFor('bob');
    t.advanceMinutes(5);
    await t.members.reissue({ name: 'bob', actor: 'alice' });
    assert.equal(await t.statusOf(grantId), 'revoked');
    await t.refused('bob');
  });

  test('a grant requested for a name before its member was added never opens their access', async () => {
    const t = fleet();
    await t.members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true });
    const early = await t.grantFor('carol');
    t.advanceMinutes(5);
    await t.members.add({ name: 'carol', email: 'carol@agency.example', actor: 'alice', bootstrap: false });
    assert.equal(await t.statusOf(early), 'revoked');
    await t.refused('carol');
  });

  test('grants of other members, and grants requested after the change, stay as they are', async () => {
    const t = fleet();
    await teamOfTwo(t);
    const alices = await t.grantFor('alice');
    await t.members.reissue({ name: 'bob', actor: 'alice' });
    t.advanceMinutes(5);
    const bobsNew = await t.grantFor('bob');
    assert.equal(await t.statusOf(alices), 'active');
    assert.equal((await t.support.authorize('acme', 'bob', 'audit export')).id, bobsNew);
  });

  test('a grant that expired or was revoked before the removal keeps its own end', async () => {
    const t = fleet();
    await teamOfTwo(t);
    const revoked = await t.grantFor('bob');
    await t.support.revoke({ clientId: 'acme', grantId: revoked, actor: 'alice' });
    const revokedAt = (await t.support.list('acme')).find((grant) => grant.id === revoked)?.revokedAt;
    const expiring = await t.grantFor('bob');
    t.advanceMinutes(5 * 60);
    await t.members.remove({ name: 'bob', actor: 'alice' });
    const grants = await t.support.list('acme');
    assert.equal(grants.find((grant) => grant.id === revoked)?.revokedAt, revokedAt);
    assert.equal(grants.find((grant) => grant.id === expiring)?.status, 'expired');
  });
});
