// Two admins answering the same support request at the same moment. A deny calls the service's revoke,
// which ends whatever the grant has become: when a colleague's approval landed between the gateway's read
// and the deny, the deny ended that fresh access, and the page said "Denied: … has no access" as if nobody
// had ever let the member in. It now says a colleague had just approved it and the deny ended it. A
// request decided before the press is refused in plain words (not "this request is revoked"), and an
// approval that loses to a colleague's deny says what became of the request, without grant ids.
// Real support access and gateway over an in-memory ops log, real routes and views.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SUPPORT_ACTIONS, SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { ServicesClientGateway } from '../../../orchestrator/src/portal/gateway/services-client-gateway.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };
const COLLEAGUE = 'lee@acme.example';

describe('support requests answered by two admins at once', () => {
  const opsLog = new MemoryOpsRegistry();
  opsLog.clients.set('acme', { id: 'acme', provider: 'gmail', configYaml: `client: acme\nadmins:\n  - ${ADMIN.email}\n  - ${COLLEAGUE}\n` });
  const support = new SupportAccessService({ registry: opsLog as unknown as Registry, clock: { now: () => START } });
  /** What the colleague does in the moment between the gateway's read and the service's write; none when null. */
  let meanwhile: ((grantId: string) => Promise<unknown>) | null = null;
  const racing = {
    list: (clientId: unknown) => support.list(clientId),
    approve: async (input: Parameters<SupportAccessService['approve']>[0]) => {
      await meanwhile?.(input.grantId);
      return support.approve(input);
    },
    revoke: async (input: Parameters<SupportAccessService['revoke']>[0]) => {
      await meanwhile?.(input.grantId);
      return support.revoke(input);
    },
  };
  const gateway = new ServicesClientGateway({
    registry: opsLog as unknown as Registry,
    agents: {} as never,
    views: {} as never,
    killer: {} as never,
    reviver: {} as never,
    support: racing,
    review: {} as never,
  });
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(controlRoutes, { gateway }, ADMIN);
  });
  after(() => harness.close());

  const pending = () => support.request({ clientId: 'acme', member: 'ops.jane', incident: 'INC-42', reason: 'Replies go out twice', hours: 4, actor: 'ops.jane' });
  const colleagueApproves = (grantId: string) => support.approve({ clientId: 'acme', grantId, by: COLLEAGUE, actor: `client-admin:${COLLEAGUE}` });
  const colleagueDenies = (grantId: string) => support.revoke({ clientId: 'acme', grantId, actor: `client-admin:${COLLEAGUE}` });

  test('a deny that meets a colleague\'s approval says the colleague had just approved it and the deny ended that access', async () => {
    const grant = await pending();
    meanwhile = colleagueApproves;
    try {
      const page = await harness.post(`/support/${grant.id}`, { decision: 'deny' });
      assert.equal(page.status, 200, page.text);
      assert.match(page.text, /<h1>Access approved, then ended<\/h1>/);
      assert.match(page.text, /lee@acme\.example had just approved it, and your deny ended that access at once: ops\.jane has no access now \(incident INC-42\)/);
      assert.doesNotMatch(page.text, /Denied: /);
    } finally {
      meanwhile = null;
    }
    assert.equal((await support.list('acme')).find((each) => each.id === grant.id)?.status, 'revoked');
  });

  test('the same admin\'s deny from another tab after their own approval says they had just approved it', async () => {
    const grant = await pending();
    meanwhile = (grantId) => support.approve({ clientId: 'acme', grantId, by: ADMIN.email, actor: `client-admin:${ADMIN.email}` });
    try {
      const page = await harness.post(`/support/${grant.id}`, { decision: 'deny' });
      assert.match(page.text, /You had just approved it \(in another window or tab\), and your deny ended that access at once/);
    } finally {
      meanwhile = null;
    }
  });

  test('a plain deny still says denied', async () => {
    const grant = await pending();
    const page = await harness.post(`/support/${grant.id}`, { decision: 'deny' });
    assert.match(page.text, /<h1>Access denied<\/h1>/);
    assert.match(page.text, /Denied: ops\.jane has no access\./);
  });

  test('an approval that meets a colleague\'s deny says the request was already denied, with no grant id or service words', async () => {
    const grant = await pending();
    meanwhile = colleagueDenies;
    try {
      const page = await harness.post(`/support/${grant.id}`, { decision: 'approve' });
      assert.equal(page.status, 409, page.text);
      assert.match(page.text, /^Nothing was changed: This request was already denied/);
      assert.doesNotMatch(page.text, /sg-|meanwhile|revoked/);
    } finally {
      meanwhile = null;
    }
    const approvals = opsLog.entries.filter((entry) => entry.action === SUPPORT_ACTIONS.approve && entry.details['grantId'] === grant.id);
    assert.deepEqual(approvals, []);
  });

  test('a stale page\'s answer to a request decided already is refused in plain words', async () => {
    const denied = await pending();
    await colleagueDenies(denied.id);
    const late = await harness.post(`/support/${denied.id}`, { decision: 'deny' });
    assert.equal(late.status, 409);
    assert.match(late.text, /^Nothing was changed: This request was already denied/);
    assert.doesNotMatch(late.text, /is revoked|only a pending/);

    const approved = await pending();
    await colleagueApproves(approved.id);
    const again = await harness.post(`/support/${approved.id}`, { decision: 'approve' });
    assert.match(again.text, /^Nothing was changed: This request was approved already, by lee@acme\.example: the access is open/);
  });
});
