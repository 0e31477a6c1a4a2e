// The support page under what the agency can put on it: a reason typed by a team member (markup, a very
// long word), a flood of requests, and the words the admin reads after deciding. The page listed every
// request ever made (the agency can create them at will), named outcomes by their internal state
// ("revoked" for a request the admin denied) and gave the end of an approved access as a raw timestamp.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { controlRoutes } from '../../../orchestrator/src/portal/http/routes-controls.ts';
import { SUPPORT_LIST_LIMIT } from '../../../orchestrator/src/portal/http/support-page.ts';
import type { Registry } from '../../../orchestrator/src/ports/registry.ts';
import { SupportAccessService } from '../../../orchestrator/src/services/support-access.ts';
import { MemoryOpsRegistry, START } from '../incidents/memory-incident-bed.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';
import { supportOnlyGateway } from './support-gateway.ts';

const ADMIN = { clientId: 'acme', email: 'dana@acme.example' };

describe('support page: hostile and plentiful requests', () => {
  let opsLog: MemoryOpsRegistry;
  let support: SupportAccessService;
  let harness: RouteHarness | undefined;
  beforeEach(async () => {
    await harness?.close();
    opsLog = new MemoryOpsRegistry();
    opsLog.addClient('acme', ADMIN.email);
    const registry = opsLog as unknown as Registry;
    support = new SupportAccessService({ registry, clock: { now: () => START } });
    harness = await startRouteHarness(controlRoutes, { gateway: supportOnlyGateway(registry, support) }, ADMIN);
  });
  after(() => harness?.close());

  const ask = (reason = 'Replies go out twice', member = 'ops.jane') =>
    support.request({ clientId: 'acme', member, incident: 'INC-42', reason, hours: 4, actor: member });
  const page = async () => {
    const answer = await (harness as RouteHarness).get('/support');
    assert.equal(answer.status, 200);
    return answer.text;
  };

  test('markup in a reason is shown as text, in every section', async () => {
    // Bidirectional overrides never get this far: the service refuses them in a reason (support-request-limits).
    const hostile = '</bdi><script>alert(1)</script><img src=x onerror="alert(2)"> & gnp.exe';
    await ask(hostile);
    const active = await ask(hostile);
    await support.approve({ clientId: 'acme', grantId: active.id, by: ADMIN.email, actor: 'client-admin:x' });
    const denied = await ask(hostile);
    await support.revoke({ clientId: 'acme', grantId: denied.id, actor: 'client-admin:x' });
    const text = await page();
    assert.doesNotMatch(text, /<script>|<img /);
    assert.equal(text.split('&lt;/bdi&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; gnp.exe').length - 1, 3);
  });

  test('a very long reason is shown whole', async () => {
    const long = 'x'.repeat(500);
    await ask(long);
    assert.ok((await page()).includes(long));
  });

  test('a flood of requests lists at most a bounded number of each kind and says how many more there are', async () => {
    for (let index = 0; index < SUPPORT_LIST_LIMIT + 30; index += 1) {
      const grant = await ask(`old request ${index}`);
      await support.revoke({ clientId: 'acme', grantId: grant.id, actor: 'client-admin:x' });
    }
    // Each member may have a few requests waiting; a large team together can still have many.
    for (let index = 0; index < SUPPORT_LIST_LIMIT + 70; index += 1) await ask(`waiting request ${index}`, `ops.member${index}`);
    const text = await page();
    assert.equal(text.match(/Approve for 4 h/g)?.length, SUPPORT_LIST_LIMIT);
    assert.equal(text.match(/Reason: <bdi>old request/g)?.length, SUPPORT_LIST_LIMIT);
    assert.match(text, /70 more requests are waiting/);
    assert.match(text, /30 older are not shown/);
    assert.ok(text.includes(`waiting request ${SUPPORT_LIST_LIMIT + 69}<`), 'the newest waiting request is listed');
    assert.ok(text.length < 200_000, `the page is ${text.length} characters`);
  });

  test('earlier requests say in plain words what came of them', async () => {
    const denied = await ask('denied one');
    await (harness as RouteHarness).post(`/support/${denied.id}`, { decision: 'deny' });
    const ended = await ask('ended one');
    await support.approve({ clientId: 'acme', grantId: ended.id, by: ADMIN.email, actor: 'client-admin:x' });
    await (harness as RouteHarness).post(`/support/${ended.id}/end`, {});
    const text = await page();
    assert.match(text, /class="tag revoked">Not approved</);
    assert.match(text, /class="tag revoked">Ended early</);
  });

  test('a request logged by one team member for another names both', async () => {
    await support.request({ clientId: 'acme', member: 'ops.jane', incident: 'INC-42', reason: 'r', hours: 4, actor: 'ops.lead' });
    assert.match(await page(), /Asked by <bdi>ops\.lead, for ops\.jane<\/bdi>/);
  });

  test('approving says until when in words, not as a timestamp', async () => {
    const grant = await ask();
    const approved = await (harness as RouteHarness).post(`/support/${grant.id}`, { decision: 'approve' });
    assert.equal(approved.status, 200);
    assert.match(approved.text, /ops\.jane can read your data until Wed, 2 Dec 2026, 14:00 UTC, for incident INC-42/);
    assert.doesNotMatch(approved.text, /2026-12-02T/);
  });
});
