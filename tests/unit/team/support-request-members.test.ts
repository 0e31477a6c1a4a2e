// A support request through the ops API names the team member the access is for (the caller by default).
// A name nobody on the team holds was accepted: the client's admins were asked to approve access for a
// typo, a former member or the setup actor of a fresh install, which no one could ever use.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Orchestrator } from '../../../orchestrator/src/orchestrator.ts';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SUPPORT_ACTIONS, SupportAccessService, type SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import { TeamMembers } from '../../../orchestrator/src/services/team/team-members.ts';
import { TeamTotp } from '../../../orchestrator/src/services/team/team-totp.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { serveApiRouter } from '../orchestrator/api-router-server.ts';
import { memoryTeamStore } from './memory-team-store.ts';

describe('support requests name a team member', () => {
  const opsLog = new MemoryOpsRegistry();
  let members: TeamMembers;
  let server: Server;
  let base: string;

  before(async () => {
    const clock = { now: () => START };
    opsLog.addClient('acme', 'boss@acme.example');
    const registry = {
      getClient: (id: string) => opsLog.getClient(id),
      listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
      appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? START.toISOString() }),
      appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? START.toISOString() }, guard),
    } as unknown as Registry;
    const store = memoryTeamStore();
    members = new TeamMembers({ store, totp: new TeamTotp({ members: store.members, clock, sealingKey: randomBytes(32) }), registry, clock });
    await members.add({ name: 'alice', email: 'alice@agency.example', actor: '', bootstrap: true });
    await members.add({ name: 'bob', email: 'bob@agency.example', actor: 'alice', bootstrap: false });
    const orchestrator = { team: { members }, support: new SupportAccessService({ registry, clock, isTeamMember: (member) => members.isMember(member) }) } as unknown as Orchestrator;
    ({ server, base } = await serveApiRouter(orchestrator));
  });
  after(() => server.close());

  /** As the authentication leaves it: `actor` is the signed-in member (or the setup actor). */
  async function requestSupport(body: Record<string, unknown>): Promise<{ status: number; answer: { code?: string; message?: string } & Partial<SupportGrant> }> {
    const response = await fetch(`${base}/clients/acme/support-grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ incident: 'INC-7', reason: 'a stuck draft', ...body }),
    });
    return { status: response.status, answer: (await response.json()) as { code?: string; message?: string } & Partial<SupportGrant> };
  }

  const requests = () => opsLog.entries.filter((entry) => entry.action === SUPPORT_ACTIONS.request).length;

  test('a name nobody on the team holds is refused with the reason, and nothing is logged', async () => {
    const before = requests();
    const cases: [Record<string, unknown>, string][] = [
      [{ member: 'mallory', actor: 'alice' }, 'mallory'],
      [{ member: 'Bob', actor: 'alice' }, 'Bob'],
      // A fresh install's setup actor is no member: there is nobody to grant access to yet.
      [{ actor: 'setup@socket' }, 'setup@socket'],
    ];
    for (const [body, named] of cases) {
      const { status, answer } = await requestSupport(body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(answer.code, 'invalid_input');
      assert.equal(answer.message, `${named} is not a team member: support access is granted to a member of the team (fleet team list)`);
    }
    assert.equal(requests(), before);
  });

  test('a removed member is no longer one', async () => {
    await members.add({ name: 'carol', email: 'carol@agency.example', actor: 'alice', bootstrap: false });
    await members.remove({ name: 'carol', actor: 'alice' });
    const { status, answer } = await requestSupport({ member: 'carol', actor: 'alice' });
    assert.equal(status, 400);
    assert.match(answer.message ?? '', /carol is not a team member/);
  });

  test('a member, the caller or another named one, gets a pending grant', async () => {
    const own = await requestSupport({ actor: 'alice' });
    assert.equal(own.status, 201);
    assert.deepEqual([own.answer.member, own.answer.requestedBy, own.answer.status], ['alice', 'alice', 'pending']);
    const forBob = await requestSupport({ member: 'bob', actor: 'alice' });
    assert.equal(forBob.status, 201);
    assert.deepEqual([forBob.answer.member, forBob.answer.requestedBy], ['bob', 'alice']);
  });
});
