// Two orchestrator processes (the CLI's server and the portal, or two replicas) share one registry, each with
// its own support-access service. The pending-request limit and "only a pending grant is approved" were
// checked in each service's own memory and reads, so the two together could file more requests than the
// limit and log two approvals of one grant. The registry now checks them in the step that appends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { MAX_PENDING_REQUESTS, SUPPORT_ACTIONS, SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { registryBackends, type OpenedRegistry } from '../../helpers/registries.ts';
import { meetingOfTwo } from '../../helpers/meeting-of-two.ts';

const NOW = new Date('2026-03-02T09:00:00.000Z');
const BOSS = 'boss@acme.example';
const DEPUTY = 'deputy@acme.example';

let opened: OpenedRegistry;
before(async () => {
  opened = await registryBackends[0]!.open();
});
after(() => opened.close());

/**
 * Two handles on one registry whose appends (plain or guarded) wait, once, until both handles reached one:
 * each process has then made its checks before either appends, the interleaving a race needs, every time.
 */
function meetingAtFirstAppend(registry: Registry): [Registry, Registry] {
  const meeting = meetingOfTwo();
  const handle = (): Registry => {
    const meet = meeting.party();
    return new Proxy(registry, {
      get(target, property) {
        if (property === 'appendOpsLog') return async (...args: Parameters<Registry['appendOpsLog']>) => (await meet(), target.appendOpsLog(...args));
        if (property === 'appendOpsLogIf') return async (...args: Parameters<Registry['appendOpsLogIf']>) => (await meet(), target.appendOpsLogIf(...args));
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return [handle(), handle()];
}

/** A fresh registry holding client acme, and two services on it as two processes would have them. */
async function twoProcesses(): Promise<{ registry: Registry; first: SupportAccessService; second: SupportAccessService; meeting: () => [SupportAccessService, SupportAccessService] }> {
  await opened.reset();
  const registry = opened.registry;
  const configYaml = `client: acme\nadmins:\n  - ${BOSS}\n  - ${DEPUTY}\n`;
  await registry.claimForProvisioning(
    { id: 'acme' as ClientId, provider: 'gmail', admins: [BOSS, DEPUTY], configYaml, onboardingStartedAt: NOW.toISOString() },
    'op-1',
    NOW,
    60_000,
  );
  const clock = { now: () => NOW };
  return {
    registry,
    first: new SupportAccessService({ registry, clock }),
    second: new SupportAccessService({ registry, clock }),
    /** Two services whose next writes both check before either appends. */
    meeting: () => {
      const [one, other] = meetingAtFirstAppend(registry);
      return [new SupportAccessService({ registry: one, clock }), new SupportAccessService({ registry: other, clock })];
    },
  };
}

const logged = async (registry: Registry, action: string) => (await registry.listOpsLog({ clientId: 'acme', actions: [action] })).length;
const ask = (service: SupportAccessService, member: string, actor = member) =>
  service.request({ clientId: 'acme', member, incident: 'INC-7', reason: 'a stuck draft', actor });

describe('support access across two processes on one registry', () => {
  test('the last free place asked for through both at once is taken once', async () => {
    const t = await twoProcesses();
    for (let index = 1; index < MAX_PENDING_REQUESTS; index += 1) await ask(t.first, 'alice');
    const [one, other] = t.meeting();
    const answers = await Promise.allSettled([ask(one, 'alice'), ask(other, 'alice')]);
    assert.equal(answers.filter((answer) => answer.status === 'fulfilled').length, 1);
    const refusal = answers.find((answer) => answer.status === 'rejected');
    assert.ok(refusal !== undefined && isFleetError(refusal.reason) && refusal.reason.code === 'conflict', String(refusal?.reason));
    assert.equal(await logged(t.registry, SUPPORT_ACTIONS.request), MAX_PENDING_REQUESTS);
  });

  test('one requester fanning out over member names through both is held to the limit too', async () => {
    const t = await twoProcesses();
    for (let index = 1; index < MAX_PENDING_REQUESTS; index += 1) await ask(t.second, `member${index}`, 'mallory');
    const [one, other] = t.meeting();
    const answers = await Promise.allSettled([ask(one, 'erin', 'mallory'), ask(other, 'frank', 'mallory')]);
    assert.equal(answers.filter((answer) => answer.status === 'fulfilled').length, 1);
    assert.equal(await logged(t.registry, SUPPORT_ACTIONS.request), MAX_PENDING_REQUESTS);
  });

  test('many requests sent to both at once never pass the limit', async () => {
    const t = await twoProcesses();
    const answers = await Promise.allSettled(Array.from({ length: MAX_PENDING_REQUESTS * 2 }, (_, index) => ask(index % 2 === 0 ? t.first : t.second, 'alice')));
    assert.equal(answers.filter((answer) => answer.status === 'fulfilled').length, MAX_PENDING_REQUESTS);
    assert.equal(await logged(t.registry, SUPPORT_ACTIONS.request), MAX_PENDING_REQUESTS);
  });

  test('a grant approved through both at once is approved once, and the other approver is told', async () => {
    const { registry, first: requester, meeting } = await twoProcesses();
    const grant = await ask(requester, 'alice');
    const [first, second] = meeting();
    const answers = await Promise.allSettled([
      first.approve({ clientId: 'acme', grantId: grant.id, by: BOSS, actor: `client-admin:${BOSS}` }),
      second.approve({ clientId: 'acme', grantId: grant.id, by: DEPUTY, actor: `client-admin:${DEPUTY}` }),
    ]);
    const approved = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
    assert.equal(approved.length, 1);
    const refusal = answers.find((answer) => answer.status === 'rejected');
    assert.ok(refusal !== undefined && isFleetError(refusal.reason) && refusal.reason.code === 'conflict');
    assert.equal(await logged(registry, SUPPORT_ACTIONS.approve), 1);
    const [listed] = await second.list('acme');
    assert.equal(listed?.approvedBy, approved[0]?.approvedBy);
  });

  test('a grant withdrawn through both at once is revoked once', async () => {
    const { registry, first: requester, meeting } = await twoProcesses();
    const grant = await ask(requester, 'alice');
    const [first, second] = meeting();
    const ended = await Promise.all([first, second].map((service) => service.revoke({ clientId: 'acme', grantId: grant.id, actor: 'alice' })));
    assert.deepEqual(
      ended.map((answer) => answer.status),
      ['revoked', 'revoked'],
    );
    assert.equal(await logged(registry, SUPPORT_ACTIONS.revoke), 1);
  });
});

describe('appendOpsLogIf on the SQL registry', () => {
  const entry = { actor: 'ops', action: 'probe', clientId: 'acme', reason: null, outcome: 'success', details: {} };

  test('appends what the guard allows and reads what it asks, in the order asked', async () => {
    const { registry } = await twoProcesses();
    await registry.appendOpsLog({ ...entry, action: 'other' });
    const seen: string[][] = [];
    const answer = await registry.appendOpsLogIf(entry, {
      reads: [{ clientId: 'acme', actions: ['probe'] }, { actions: ['other'] }],
      refusal: (read) => {
        seen.push(...read.map((entries) => entries.map((one) => one.action)));
        return null;
      },
    });
    assert.equal(answer.outcome, 'appended');
    assert.deepEqual(seen, [[], ['other']]);
    assert.equal(await logged(registry, 'probe'), 1);
  });

  test('appends nothing when the guard refuses, and hands back its reason', async () => {
    const { registry } = await twoProcesses();
    const answer = await registry.appendOpsLogIf(entry, { reads: [], refusal: () => 'no' as const });
    assert.deepEqual(answer, { outcome: 'refused', refusal: 'no' });
    assert.equal(await logged(registry, 'probe'), 0);
  });

  test('guarded appends running together each see the ones before: a bound of three holds', async () => {
    const { registry } = await twoProcesses();
    const atMostThree = { reads: [{ clientId: 'acme', actions: ['probe'] }], refusal: ([probes = []]: readonly (readonly unknown[])[]) => (probes.length >= 3 ? 'full' : null) };
    const answers = await Promise.all(Array.from({ length: 8 }, () => registry.appendOpsLogIf(entry, atMostThree)));
    assert.equal(answers.filter((answer) => answer.outcome === 'appended').length, 3);
    assert.equal(await logged(registry, 'probe'), 3);
  });
});
