// Support access per incident: a grant ends with its incident (also one that names no client, also one
// requested while the incident closed), is used only for its own incident when one is named, and a
// closing whose revocations fail leaves the incident open rather than closed with live grants.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { verifyOpsLog } from '../../../orchestrator/src/domain/ops-log-chain.ts';
import { incidentBed } from './memory-incident-bed.ts';

const refused = (code: string, message: RegExp) => (error: unknown) => isFleetError(error) && error.code === code && message.test(error.message);

describe('support grants and their incident', () => {
  test('closing an incident that names no client ends the grants requested for it', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'low', summary: 'orchestrator host patched late', actor: 'ops' });
    const grantId = await bed.activeGrant('acme', 'alice', incident.id);
    assert.deepEqual((await bed.incidents.get(incident.id)).grants.map((grant) => [grant.id, grant.clientId, grant.status]), [[grantId, 'acme', 'active']]);

    const closed = await bed.incidents.close({ id: incident.id, rootCause: 'late patch', lessons: 'patch weekly', actor: 'ops' });
    assert.deepEqual(closed.grants.map((grant) => [grant.id, grant.status]), [[grantId, 'revoked']]);
    const closeEntry = bed.registry.entries.find((entry) => entry.action === 'incident-close');
    assert.deepEqual(closeEntry?.details['revokedGrants'], [grantId]);
    const accesses = bed.registry.entries.filter((entry) => entry.action === 'support-access').length;
    await assert.rejects(bed.support.authorize('acme', 'alice', 'audit export'), refused('forbidden', /no active support grant/));
    assert.equal(bed.registry.entries.filter((entry) => entry.action === 'support-access').length, accesses, 'a refused use is no access');
  });

  test('a grant serves only its own incident when the use names one', async () => {
    const bed = incidentBed();
    const first = (await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' })).incident;
    const second = (await bed.incidents.open({ severity: 'high', summary: 'odd replies', clients: ['acme'], actor: 'ops' })).incident;
    const grantId = await bed.activeGrant('acme', 'alice', first.id);

    await assert.rejects(
      bed.support.authorize('acme', 'alice', `incident evidence ${second.id}`, { incident: second.id }),
      refused('forbidden', new RegExp(`no active support grant for ${second.id} for acme`)),
    );
    const used = await bed.support.authorize('acme', 'alice', `incident evidence ${first.id}`, { incident: first.id });
    assert.equal(used.id, grantId);
    const access = bed.registry.entries.at(-1);
    assert.equal(access?.action, 'support-access');
    assert.deepEqual([access.actor, access.details['incident'], access.details['purpose']], ['alice', first.id, `incident evidence ${first.id}`]);
  });

  test('a grant whose incident closed without revoking it is neither approved nor used', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
    const activeId = await bed.activeGrant('acme', 'alice', incident.id);
    const pending = await bed.support.request({ clientId: 'acme', member: 'bob', incident: incident.id, reason: 'read the audit log', actor: 'bob' });
    // What a request racing the closing leaves: the record closed, the grants still as they were.
    await bed.store.update(incident.id, (current) => ({ ...current, status: 'closed', closedAt: bed.clock.now().toISOString() }));

    await assert.rejects(
      bed.support.approve({ clientId: 'acme', grantId: pending.id, by: 'boss@acme.example', actor: 'client-admin:boss@acme.example' }),
      refused('conflict', new RegExp(`${incident.id} is closed`)),
    );
    assert.equal((await bed.support.list('acme')).find((grant) => grant.id === pending.id)?.status, 'pending', 'nothing approved');
    const before = bed.registry.entries.length;
    await assert.rejects(bed.support.authorize('acme', 'alice', 'audit export'), refused('forbidden', new RegExp(`${activeId} is no longer open`)));
    assert.equal(bed.registry.entries.length, before, 'no access was logged');
  });

  test('a revocation that fails leaves the incident open; closing again ends the grants and closes it', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'high', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
    const grantId = await bed.activeGrant('acme', 'alice', incident.id);
    bed.failRevocations = true;
    await assert.rejects(bed.incidents.close({ id: incident.id, rootCause: 'a leaked token', lessons: 'rotate monthly', actor: 'ops' }), /unreachable/);
    assert.equal((await bed.store.get(incident.id))?.status, 'open', 'not closed with a live grant');
    assert.ok(!bed.registry.entries.some((entry) => entry.action === 'incident-close'));

    bed.failRevocations = false;
    const closed = await bed.incidents.close({ id: incident.id, rootCause: 'a leaked token', lessons: 'rotate monthly', actor: 'ops' });
    assert.equal(closed.incident.status, 'closed');
    assert.deepEqual(closed.grants.map((grant) => [grant.id, grant.status]), [[grantId, 'revoked']]);
    assert.equal(bed.registry.entries.filter((entry) => entry.action === 'incident-close').length, 1);
    assert.equal(verifyOpsLog(bed.registry.entries).valid, true);
  });

  test('a closing that is not allowed revokes nothing', async () => {
    const bed = incidentBed();
    const { incident } = await bed.incidents.open({ severity: 'critical', summary: 'odd sends', clients: ['acme'], actor: 'ops' });
    const grantId = await bed.activeGrant('acme', 'alice', incident.id);
    await bed.incidents.confirm({ id: incident.id, scope: 'mail of one week', actor: 'ops' });
    await assert.rejects(bed.incidents.close({ id: incident.id, rootCause: 'x', lessons: 'y', actor: 'ops' }), refused('conflict', /was told/));
    assert.equal((await bed.support.list('acme')).find((grant) => grant.id === grantId)?.status, 'active', 'the grant still serves the open incident');
  });
});
