// A client id can be provisioned again once its client was erased or purged, by anyone. The support grants of
// the earlier client stayed its id's: a member it had approved read the new client's data without any of the
// new admins approving, and the new admins were shown (and could approve) the earlier client's requests, with
// their reasons. The entries here are unsealed, as those written before erasure existed: a deletion leaves
// their details in place.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { ERASE_ACTION, PURGE_ACTION } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import type { NewOpsLogEntry, OpsLogAppendGuard, Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';

function fleet() {
  const clock = { now: () => START };
  const opsLog = new MemoryOpsRegistry();
  opsLog.addClient('acme', 'boss@acme.example');
  const registry = {
    getClient: (id: string) => opsLog.getClient(id),
    listOpsLog: (filter?: { clientId?: string; actions?: readonly string[] }) => opsLog.listOpsLog(filter),
    appendOpsLog: (entry: NewOpsLogEntry) => opsLog.appendOpsLog({ ...entry, at: entry.at ?? START.toISOString() }),
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) => opsLog.appendOpsLogIf({ ...entry, at: entry.at ?? START.toISOString() }, guard),
  } as unknown as Registry;
  const support = new SupportAccessService({ registry, clock });
  const requestFor = (member: string) =>
    support.request({ clientId: 'acme', member, incident: 'INC-7', reason: 'the earlier client’s mailbox', actor: member });
  const approve = (grantId: string, by = 'boss@acme.example') =>
    support.approve({ clientId: 'acme', grantId, by, actor: `client-admin:${by}` });
  /** A deletion entry of the client, with the `outcome` its deletion came to. */
  const logDeletion = (action: string, outcome: string) =>
    opsLog.appendOpsLog({ actor: 'alice', action, clientId: 'acme', reason: null, outcome, details: {}, at: START.toISOString() });
  /** The client deleted, and a new client provisioned under its id. */
  const deleteAndReprovision = async (action: string) => {
    await logDeletion(action, 'success');
    opsLog.addClient('acme', 'owner@new-acme.example');
  };
  return { support, requestFor, approve, logDeletion, deleteAndReprovision };
}

const forbidden = (error: unknown) => isFleetError(error) && error.code === 'forbidden';
const notFound = (error: unknown) => isFleetError(error) && error.code === 'not_found';

describe('support grants and a client id used again', () => {
  for (const deletion of [PURGE_ACTION, ERASE_ACTION]) {
    test(`after a deletion (${deletion}), the earlier client’s grants neither open the new client’s data nor show to its admins`, async () => {
      const t = fleet();
      const active = await t.requestFor('alice');
      await t.approve(active.id);
      const pending = await t.requestFor('bob');
      await t.deleteAndReprovision(deletion);

      await assert.rejects(t.support.authorize('acme', 'alice', 'audit export'), forbidden);
      assert.equal(await t.support.hasActiveGrant('acme', 'alice'), false);
      assert.deepEqual(await t.support.list('acme'), [], 'the new client’s admins see no request of the earlier one');
      await assert.rejects(t.approve(pending.id, 'owner@new-acme.example'), notFound);

      const fresh = await t.requestFor('alice');
      await t.approve(fresh.id, 'owner@new-acme.example');
      assert.equal((await t.support.authorize('acme', 'alice', 'audit export')).id, fresh.id, 'the new client approves its own');
    });
  }

  test('a deletion that did not finish ends no grant', async () => {
    const t = fleet();
    const active = await t.requestFor('alice');
    await t.approve(active.id);
    // The client and its admins stay as they were: only a finished deletion makes room for a new client.
    await t.logDeletion(ERASE_ACTION, 'started');
    assert.equal((await t.support.authorize('acme', 'alice', 'audit export')).id, active.id);
  });
});
