// A member's grants end with the team-remove entry of the ops log. The removal now appends that entry before
// the member leaves the team store (team-removal-recorded-first.test.ts), but a member may be gone without
// it (a removal by an earlier release that appended after deleting, and whose append failed). Such a grant
// still folded as active, and the gate let a name nobody on the team holds read the client's data. The gate
// now also asks whether the name is on the team.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { memoryTeamStore } from './memory-team-store.ts';

void test('a grant stops working once its member is off the team, even when the removal never reached the ops log', async () => {
  const clock = { now: () => START };
  const opsLog = new MemoryOpsRegistry();
  opsLog.addClient('acme', 'boss@acme.example');
  const registry = {
    getClient: (id: string) => opsLog.getClient(id),
    listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
    appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? START.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? START.toISOString() }, guard),
  } as unknown as Registry;
  const store = memoryTeamStore();
  const members = new TeamMembers({ store, totp: new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) }), registry, clock });
  const support = new SupportAccessService({ registry, clock, isTeamMember: (member) => members.isMember(member) });
  await members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true });
  await members.add({ name: 'bob', email: 'bob@agency.example', actor: 'alice', bootstrap: false });
  const grant = await support.request({ clientId: 'acme', member: 'bob', incident: 'INC-7', reason: 'a stuck draft', actor: 'bob' });
  await support.approve({ clientId: 'acme', grantId: grant.id, by: 'boss@acme.example', actor: 'client-admin:boss@acme.example' });
  assert.equal((await support.authorize('acme', 'bob', 'audit export')).id, grant.id, 'the grant works while bob is a member');

  // A removal without its entry, as an earlier release could leave it.
  assert.equal(await store.members.removeMember('bob'), true);
  assert.equal(await members.isMember('bob'), false, 'bob is off the team, unlogged');
  await assert.rejects(
    support.authorize('acme', 'bob', 'audit export'),
    (error: unknown) => isFleetError(error) && error.code === 'forbidden' && /not a team member/.test(error.message),
  );
  assert.equal(await support.hasActiveGrant('acme', 'bob'), false);
  assert.equal(await support.hasActiveGrant('acme', 'alice'), false);
});
