// Support access under requests the agency controls and client changes it does not: an approval outlived the
// admin who gave it (removed from the client's admins), one member could file requests without end for the
// client's admins to wade through, the team-membership check sat only in the HTTP route, and a reason could
// carry bidirectional overrides and control characters into the page the admin decides on. A closed client's
// admins still speak for it during its retention period (its data is exported with their approval).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError, type FleetErrorCode } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import {
  MAX_PENDING_REQUESTS,
  SUPPORT_ACTIONS,
  SUPPORT_SYSTEM_ACTOR,
  SupportAccessService,
} from '../../../orchestrator/src/services/support-access.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';

const BOSS = 'boss@acme.example';
const DEPUTY = 'deputy@acme.example';

function fleet(options: { team?: readonly string[] } = {}) {
  let now = START;
  const clock = { now: () => now };
  const opsLog = new MemoryOpsRegistry();
  const clientRecords = new Map<string, { admins: string[]; status: string }>([['acme', { admins: [BOSS, DEPUTY], status: 'active' }]]);
  const registry = {
    getClient: (id: string) => {
      const record = clientRecords.get(id);
      if (record === undefined) return Promise.resolve(null);
      const configYaml = `client: ${id}\nadmins:\n${record.admins.map((admin) => `  - ${admin}\n`).join('')}`;
      return Promise.resolve({ id, provider: 'gmail', status: record.status, configYaml });
    },
    listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
    appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? now.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? now.toISOString() }, guard),
  } as unknown as Registry;
  const team = options.team;
  const support = new SupportAccessService({
    registry,
    clock,
    ...(team === undefined ? {} : { isTeamMember: (member: string) => Promise.resolve(team.includes(member)) }),
  });
  const acme = (): { admins: string[]; status: string } => {
    const record = clientRecords.get('acme');
    assert.ok(record);
    return record;
  };
  const ask = (member = 'alice', actor = member, reason = 'a stuck draft') =>
    support.request({ clientId: 'acme', member, incident: 'INC-7', reason, actor });
  const approve = (grantId: string, by = BOSS) => support.approve({ clientId: 'acme', grantId, by, actor: `client-admin:${by}` });
  const entries = (action: string) => opsLog.entries.filter((entry) => entry.action === action);
  const advanceMinutes = (minutes: number) => {
    now = new Date(now.getTime() + minutes * 60_000);
  };
  return { support, acme, ask, approve, entries, advanceMinutes };
}

const refusedWith = (code: FleetErrorCode, message?: RegExp) => (error: unknown) =>
  isFleetError(error) && error.code === code && (message === undefined || message.test(error.message));

describe('an approval lasts as long as its approver speaks for the client', () => {
  test('removing the approving admin ends the grant for every reader, logged once, and re-adding them does not revive it', async () => {
    const t = fleet();
    const byBoss = await t.ask('alice');
    await t.approve(byBoss.id, BOSS);
    const byDeputy = await t.ask('bob');
    await t.approve(byDeputy.id, DEPUTY);
    assert.equal((await t.support.authorize('acme', 'alice', 'audit export')).id, byBoss.id);

    t.advanceMinutes(10);
    t.acme().admins = [DEPUTY];
    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), false);
    await assert.rejects(t.support.authorize('acme', 'alice', 'audit export'), refusedWith('forbidden'));
    const listed = await t.support.list('acme');
    assert.equal(listed.find((grant) => grant.id === byBoss.id)?.status, 'revoked');
    assert.equal(listed.find((grant) => grant.id === byDeputy.id)?.status, 'active', 'the other admin’s approval stands');
    assert.equal((await t.support.authorize('acme', 'bob', 'audit export')).id, byDeputy.id);

    const ended = t.entries(SUPPORT_ACTIONS.revoke);
    assert.equal(ended.length, 1, 'one revocation however many reads noticed it');
    assert.equal(ended[0]?.actor, SUPPORT_SYSTEM_ACTOR);
    assert.deepEqual([ended[0]?.details['grantId'], ended[0]?.details['approvedBy']], [byBoss.id, BOSS]);

    t.acme().admins = [BOSS, DEPUTY];
    assert.equal(await t.support.hasActiveGrant('acme', 'alice'), false);
  });

  test('reads running together when the approver is removed log one revocation', async () => {
    const t = fleet();
    const grant = await t.ask('alice');
    await t.approve(grant.id);
    t.acme().admins = [DEPUTY];
    const answers = await Promise.all(Array.from({ length: 8 }, () => t.support.hasActiveGrant('acme', 'alice')));
    assert.deepEqual(new Set(answers), new Set([false]));
    assert.equal(t.entries(SUPPORT_ACTIONS.revoke).length, 1);
  });

  test("a closed client's admins still speak for it through its retention period: its data is exported with their approval", async () => {
    const t = fleet();
    const active = await t.ask('alice');
    await t.approve(active.id);
    const pending = await t.ask('bob');
    t.acme().status = 'deprovisioned';
    await t.support.authorize('acme', 'alice', 'audit export');
    await t.approve(pending.id);
    await t.ask('carol');
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, 3);
    assert.equal(t.entries(SUPPORT_ACTIONS.approve).length, 2);
    assert.equal(t.entries(SUPPORT_ACTIONS.revoke).length, 0);
  });

  test('a replayed approval, even sent at the same time, is logged once', async () => {
    const t = fleet();
    const grant = await t.ask('alice');
    const answers = await Promise.allSettled([t.approve(grant.id, BOSS), t.approve(grant.id, DEPUTY), t.approve(grant.id, BOSS)]);
    assert.equal(answers.filter((answer) => answer.status === 'fulfilled').length, 1);
    assert.equal(t.entries(SUPPORT_ACTIONS.approve).length, 1);
  });
});

describe('pending requests are bounded', () => {
  test(`a member has at most ${MAX_PENDING_REQUESTS} requests waiting, whoever files them; an answer or a withdrawal makes room`, async () => {
    const t = fleet();
    const filed = [];
    for (let index = 0; index < MAX_PENDING_REQUESTS; index += 1) filed.push(await t.ask('alice'));
    await assert.rejects(t.ask('alice'), refusedWith('conflict', new RegExp(`alice already has ${MAX_PENDING_REQUESTS} support requests waiting`)));
    await assert.rejects(t.ask('alice', 'bob'), refusedWith('conflict', /alice already has/));
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, MAX_PENDING_REQUESTS);

    const [first, second] = filed;
    assert.ok(first && second);
    await t.support.revoke({ clientId: 'acme', grantId: first.id, actor: 'alice' });
    await t.approve(second.id);
    await t.ask('alice');
    await t.ask('alice');
    await assert.rejects(t.ask('alice'), refusedWith('conflict'));
  });

  test('one requester cannot fan requests out over many member names', async () => {
    const t = fleet();
    for (let index = 0; index < MAX_PENDING_REQUESTS; index += 1) await t.ask(`member${index}`, 'mallory');
    await assert.rejects(t.ask('someone.else', 'mallory'), refusedWith('conflict', /mallory already made/));
  });

  test('requests sent at the same time do not slip past the bound', async () => {
    const t = fleet();
    const answers = await Promise.allSettled(Array.from({ length: MAX_PENDING_REQUESTS * 3 }, () => t.ask('alice')));
    assert.equal(answers.filter((answer) => answer.status === 'fulfilled').length, MAX_PENDING_REQUESTS);
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, MAX_PENDING_REQUESTS);
  });

  test('a request that has expired unanswered no longer counts', async () => {
    const t = fleet();
    for (let index = 0; index < MAX_PENDING_REQUESTS; index += 1) await t.ask('alice');
    t.advanceMinutes(73 * 60);
    assert.equal((await t.ask('alice')).status, 'pending');
  });
});

describe('what the service itself refuses, whichever surface asks', () => {
  test('a request for someone not on the team is refused by the service, and nothing is logged', async () => {
    const t = fleet({ team: ['alice'] });
    await assert.rejects(t.ask('mallory', 'alice'), refusedWith('invalid_input', /mallory is not a team member/));
    await assert.rejects(t.ask('setup@socket'), refusedWith('invalid_input', /is not a team member/));
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, 0);
    assert.equal((await t.ask('alice')).status, 'pending');
  });

  test('a reason that hides or reorders text is refused; line breaks and tabs are kept', async () => {
    const t = fleet();
    for (const reason of ['fix \u202Egnp.exe', 'clear\u001b[2Jscreen', 'a\u200Bhidden', 'line\r\nbreak', 'isolate \u2066x\u2069']) {
      await assert.rejects(t.ask('alice', 'alice', reason), refusedWith('invalid_input', /the reason must not contain U\+/), JSON.stringify(reason));
    }
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, 0);
    assert.equal((await t.ask('alice', 'alice', 'two lines:\n\tthe second')).reason, 'two lines:\n\tthe second');
  });

  test('hours other than a whole number from 1 to 24 are refused', async () => {
    const t = fleet();
    for (const hours of [0, -1, 25, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e9]) {
      await assert.rejects(
        t.support.request({ clientId: 'acme', member: 'alice', incident: 'INC-7', reason: 'r', hours, actor: 'alice' }),
        refusedWith('invalid_input', /hours must be a whole number/),
        String(hours),
      );
    }
    assert.equal(t.entries(SUPPORT_ACTIONS.request).length, 0);
  });

  test('an admin of another client cannot approve, whichever client the approval names', async () => {
    const t = fleet();
    const grant = await t.ask('alice');
    await assert.rejects(t.approve(grant.id, 'boss@beta.example'), refusedWith('forbidden', /is not an admin of acme/));
    await assert.rejects(
      t.support.approve({ clientId: 'beta', grantId: grant.id, by: 'boss@beta.example', actor: 'client-admin:boss@beta.example' }),
      refusedWith('not_found'),
    );
    assert.equal(t.entries(SUPPORT_ACTIONS.approve).length, 0);
  });

  test('ending a grant twice logs one revocation', async () => {
    const t = fleet();
    const grant = await t.ask('alice');
    await t.approve(grant.id);
    const [once, twice] = await Promise.all([
      t.support.revoke({ clientId: 'acme', grantId: grant.id, actor: 'client-admin:boss' }),
      t.support.revoke({ clientId: 'acme', grantId: grant.id, actor: 'client-admin:boss' }),
    ]);
    assert.deepEqual([once.status, twice.status], ['revoked', 'revoked']);
    assert.equal(t.entries(SUPPORT_ACTIONS.revoke).length, 1);
  });
});
