// The API asks whether the caller holds a support grant on every read that may show client content. That
// check read every support entry of the client (one more per use of a grant, for ever) and every team
// identity change of the fleet, each time. It reads the client's grant entries, and the identity changes
// only when the member holds a grant they could end. Reads are counted, not timed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SUPPORT_ACTIONS, SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { MEMBER_IDENTITY_ACTIONS, TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { memoryTeamStore } from './memory-team-store.ts';

const USES = 30;
const REISSUES = 12;

/** A client whose grant alice used USES times, on a team whose other member was reissued REISSUES times. */
async function busyFleet() {
  let now = START;
  const clock = { now: () => now };
  const opsLog = new MemoryOpsRegistry();
  opsLog.addClient('acme', 'boss@acme.example');
  /** Each read of the ops log since the last `reads.length = 0`: the entries it returned. */
  const reads: OpsLogEntry[][] = [];
  const registry = {
    getClient: (id: string) => opsLog.getClient(id),
    listOpsLog: async (filter?: { clientId?: string; actions?: readonly string[] }) => {
      const entries = await opsLog.listOpsLog(filter);
      reads.push(entries);
      return entries;
    },
    appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? now.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? now.toISOString() }, guard),
  } as unknown as Registry;
  const store = memoryTeamStore();
  const totp = new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) });
  const members = new TeamMembers({ store, totp, registry, clock });
  const support = new SupportAccessService({ registry, clock });
  const advanceMinutes = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };

  await members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true });
  await members.add({ name: 'bob', email: 'bob@agency.example', actor: 'alice', bootstrap: false });
  for (let reissue = 0; reissue < REISSUES; reissue += 1) await members.reissue({ name: 'bob', actor: 'alice' });
  advanceMinutes(1);
  const grant = await support.request({ clientId: 'acme', member: 'alice', incident: 'INC-7', reason: 'a stuck draft', actor: 'alice' });
  await support.approve({ clientId: 'acme', grantId: grant.id, by: 'boss@acme.example', actor: 'client-admin:boss@acme.example' });
  for (let use = 0; use < USES; use += 1) await support.authorize('acme', 'alice', 'approvals list');
  reads.length = 0;
  return { support, members, reads, advanceMinutes };
}

const actionsIn = (reads: readonly OpsLogEntry[][]): Set<string> => new Set(reads.flat().map((entry) => entry.action));
const grantEntries = [SUPPORT_ACTIONS.request, SUPPORT_ACTIONS.approve];

describe('the grant check on every read of client content', () => {
  test('a member without a grant costs one read of the client’s grant entries, however often grants were used', async () => {
    const t = await busyFleet();
    assert.equal(await t.support.hasActiveGrant('acme', 'bob'), false);
    assert.equal(t.reads.length, 1, 'one read of the ops log');
    assert.deepEqual([...actionsIn(t.reads)].sort(), [...grantEntries].sort(), 'the request and the approval, nothing else');
  });

  test('a member with a grant: the grant entries and the team’s identity changes, never the entries of each use', async () => {
    const t = await busyFleet();
    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), true);
    assert.equal(t.reads.length, 2);
    assert.equal(actionsIn(t.reads).has(SUPPORT_ACTIONS.access), false, 'no access entry read');
    assert.equal(t.reads.flat().length, grantEntries.length + 2 + REISSUES, 'two adds and the reissues');
  });

  test('using a grant reads as much the thirtieth time as the first', async () => {
    const t = await busyFleet();
    await t.support.authorize('acme', 'alice', 'audit export');
    const first = t.reads.flat().length;
    t.reads.length = 0;
    for (let use = 0; use < USES; use += 1) await t.support.authorize('acme', 'alice', 'audit export');
    assert.equal(t.reads.flat().length, first * USES);
    assert.equal(actionsIn(t.reads).has(SUPPORT_ACTIONS.access), false);
  });

  test('the check still ends a grant with its member: removed, the member holds none', async () => {
    const t = await busyFleet();
    t.advanceMinutes(5);
    await t.members.remove({ name: 'alice', actor: 'bob' });
    t.reads.length = 0;
    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), false);
    assert.ok(actionsIn(t.reads).has(MEMBER_IDENTITY_ACTIONS.remove), 'the removal was read');
  });
});
