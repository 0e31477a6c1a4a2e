// A refused form or address named the field at fault with the name as the request spelled it. For a field
// the page does not have, that name is the sender's: a link such as /activity?<sentence>=1, mailed to an
// admin, opened a page of the portal's own address reading the sender's sentence (a phone number to call,
// a notice that the account is locked), right-to-left overrides and control characters included. Only a
// name such as the portal's own fields have is shown now.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { activityRoutes } from '../../../orchestrator/src/portal/http/routes-activity.ts';
import { reviewRoutes } from '../../../orchestrator/src/portal/http/routes-review.ts';
import type { ClientGateway } from '../../../orchestrator/src/portal/client-gateway.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';
import type express from 'express';
import type { PortalContext } from '../../../orchestrator/src/portal/portal-context.ts';

const SENTENCE = 'Your account is locked. Call the agency on 0800 000 000 to unlock it';
const RLO = String.fromCodePoint(0x202e);

describe('field names the portal did not choose', () => {
  let harness: RouteHarness;
  let reached = 0;

  before(async () => {
    const gateway = {
      auditTimeline: async () => {
        reached += 1;
        return [];
      },
      parkedEmails: async () => {
        reached += 1;
        return { emails: [], limit: null };
      },
    } as unknown as ClientGateway;
    const routes = (context: PortalContext): express.Router => {
      const router = activityRoutes(context);
      router.use(reviewRoutes(context));
      return router;
    };
    harness = await startRouteHarness(routes, { gateway });
  });
  after(() => harness.close());

  test('an unknown field named with a sentence is refused without repeating the sentence', async () => {
    for (const path of ['/activity', '/review']) {
      const answer = await harness.get(`${path}?${encodeURIComponent(SENTENCE)}=1`);
      assert.equal(answer.status, 400, path);
      assert.doesNotMatch(answer.text, /0800|locked/, path);
      assert.match(answer.text, /is not a field of this form/, path);
    }
  });

  test('bidirectional overrides and control characters in a name are not echoed', async () => {
    const answer = await harness.get(`/activity?${encodeURIComponent(`type${RLO}1=evil`)}=1`);
    assert.equal(answer.status, 400);
    assert.ok(!answer.text.includes(RLO), 'no override in the page');
    const repeated = await harness.get(`/review?${encodeURIComponent(`x\u0007${SENTENCE}`)}=1&${encodeURIComponent(`x\u0007${SENTENCE}`)}=2`);
    assert.equal(repeated.status, 400);
    assert.doesNotMatch(repeated.text, /0800|\u0007/);
  });

  test('a field name such as the portal’s own is still named, and nothing reached the agent', async () => {
    const answer = await harness.get('/activity?colour=red');
    assert.equal(answer.status, 400);
    assert.match(answer.text, /colour: is not a field of this form/);
    const twice = await harness.get('/review?page=1&page=2');
    assert.match(twice.text, /page: was sent more than once/);
    assert.equal(reached, 0);
  });
});
