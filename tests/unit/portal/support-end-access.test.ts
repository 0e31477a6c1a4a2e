// A client admin could approve or deny a pending support request, but not end an approved one: the agency
// kept access until it expired (up to 24 h). The support page now lists each open grant (who asked, why,
// which incident, until when) with an "End access now" form that revokes it through the gateway, in the ops
// log as the client admin. Real support access and gateway over an in-memory ops log, real routes and views.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SUPPORT_ACTIONS, SupportAccessService, type SupportGrant } from '../../../orchestrator/src/services/support-access.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';
import { supportOnlyGateway } from './support-gateway.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const HOUR = 3_600_000;

describe('support page: ending an approved grant early', () => {
  const opsLog = new MemoryOpsRegistry();
  opsLog.addClient('acme', ADMIN.email);
  opsLog.addClient('globex', 'boss@globex.example');
  let now = START;
  const support = new SupportAccessService({ registry: opsLog as unknown as Registry, clock: { now: () => now } });
  const gateway = supportOnlyGateway(opsLog as unknown as Registry, support);
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
  });
  after(() => harness.close());

  const approved = async (clientId: string, admin: string, member = 'ops.jane', reason = 'Replies go out twice'): Promise<SupportGrant> => {
    const grant = await support.request({ clientId, member, incident: 'INC-42', reason, hours: 4, actor: member });
    return support.approve({ clientId, grantId: grant.id, by: admin, actor: `client-admin:${admin}` });
  };
  const revocations = (grantId: string) =>
    opsLog.entries.filter((entry) => entry.action === SUPPORT_ACTIONS.revoke && entry.details['grantId'] === grantId);
  const stateOf = async (clientId: string, grantId: string) => (await support.list(clientId)).find((grant) => grant.id === grantId)?.status;

  test('the page shows each open grant: who asked, why, which incident, until when, and what ending it does', async () => {
    const grant = await approved('acme', ADMIN.email, 'ops.lee', 'Calendar sync stalled since Monday');
    const page = await harness.get('/support');
    assert.equal(page.status, 200);
    const section = page.text.slice(page.text.indexOf('Access open now'), page.text.indexOf('Waiting for you'));
    assert.match(section, /ops\.lee<\/bdi> can read your data/);
    assert.match(section, /Calendar sync stalled since Monday/);
    assert.match(section, /INC-42/);
    assert.match(section, /Until<\/dt><dd>Wed, 2 Dec 2026, 14:00 UTC/);
    assert.match(section, /Asked by<\/dt><dd><bdi>ops\.lee<\/bdi>, Wed, 2 Dec 2026, 10:00 UTC/);
    assert.match(section, /the agency loses access at once\. They can ask again\./);
    assert.match(section, new RegExp(`action="/support/${grant.id}/end"[^]*?name="_csrf" value="csrf-under-test"[^]*?End access now</button>`));
    await harness.post(`/support/${grant.id}/end`, {});
  });

  test('ending a grant revokes it at once, logged as the client admin, and says so', async () => {
    const grant = await approved('acme', ADMIN.email);
    const ended = await harness.post(`/support/${grant.id}/end`, {});
    assert.equal(ended.status, 200, ended.text);
    assert.match(ended.text, /Access ended/);
    assert.match(ended.text, /ops\.jane no longer has access to your data \(incident INC-42\)/);
    assert.equal(await stateOf('acme', grant.id), 'revoked');
    assert.deepEqual(revocations(grant.id).map((entry) => entry.actor), [`client-admin:${ADMIN.email}`]);
    await assert.rejects(support.authorize('acme', 'ops.jane', 'read approvals'), (error) => isFleetError(error) && error.code === 'forbidden');
    const page = await harness.get('/support');
    assert.doesNotMatch(page.text, new RegExp(`/support/${grant.id}/end`), 'no button for an ended grant');
    assert.match(page.text, /Ended early/);
  });

  test('an already ended, expired or still pending grant is refused in plain words, and nothing is logged', async () => {
    const grant = await approved('acme', ADMIN.email);
    assert.equal((await harness.post(`/support/${grant.id}/end`, {})).status, 200);
    const again = await harness.post(`/support/${grant.id}/end`, {});
    assert.equal(again.status, 409);
    assert.match(again.text, /Nothing was changed: This access has already ended/);
    assert.equal(revocations(grant.id).length, 1);

    const expiring = await approved('acme', ADMIN.email);
    now = new Date(now.getTime() + 5 * HOUR);
    try {
      const late = await harness.post(`/support/${expiring.id}/end`, {});
      assert.equal(late.status, 409);
      assert.match(late.text, /already ended/);
      assert.equal(revocations(expiring.id).length, 0);
    } finally {
      now = START;
    }

    const pending = await support.request({ clientId: 'acme', member: 'ops.jane', incident: 'INC-42', reason: 'r', actor: 'ops.jane' });
    const early = await harness.post(`/support/${pending.id}/end`, {});
    assert.equal(early.status, 409);
    assert.match(early.text, /never approved.*Deny it instead/);
    assert.equal(await stateOf('acme', pending.id), 'pending');
  });

  test('a grant of another client is not found and keeps running', async () => {
    const theirs = await approved('globex', 'boss@globex.example');
    const refused = await harness.post(`/support/${theirs.id}/end`, {});
    assert.equal(refused.status, 404);
    assert.equal(await stateOf('globex', theirs.id), 'active');
    assert.equal(revocations(theirs.id).length, 0);
  });

  test('without the CSRF token, with a malformed id or with extra fields, nothing is ended', async () => {
    const grant = await approved('acme', ADMIN.email);
    assert.equal((await harness.post(`/support/${grant.id}/end`, { _csrf: 'forged' })).status, 403);
    assert.equal((await harness.post('/support/sg-NOTHEX/end', {})).status, 404);
    assert.equal((await harness.post(`/support/${grant.id}/end`, { decision: 'approve' })).status, 400);
    assert.equal(await stateOf('acme', grant.id), 'active');
    await harness.post(`/support/${grant.id}/end`, {});
  });
});
