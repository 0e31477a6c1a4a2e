// A one-tap link was used up before the decision it carried was made: when the agent could not be reached
// (restarting, say), the page asked the admin to try again in a minute, and the retry (or reopening the
// edit page from the email) was the "nothing here for you" 404, the edits typed into the form lost with it.
// The link is now used up by the decision itself.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { ApprovalLinks } from '../../../orchestrator/src/portal/approval-links.ts';
import type { ApprovalDetail } from '../../../orchestrator/src/portal/client-gateway.ts';
import { approvalRoutes } from '../../../orchestrator/src/portal/http/routes-approvals.ts';
import { pendingMailSend } from '../../helpers/pending-approval.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const NOW = new Date('2026-03-10T12:00:00.000Z');
const PROPOSED = { kind: 'mail.send', to: ['client@example.com'], cc: [], bcc: [], subject: 'Figures', body: 'Attached.' };

const approval = (id: string): ApprovalDetail => pendingMailSend(id, PROPOSED);

describe('a one-tap link and a decision the agent could not take', () => {
  const used = new Set<string>();
  const key = randomBytes(32);
  const links = new ApprovalLinks({
    key,
    nonces: {
      useLinkNonce: async (nonceHash) => !used.has(nonceHash) && Boolean(used.add(nonceHash)),
      isLinkNonceUsed: async (nonceHash) => used.has(nonceHash),
    },
    clock: { now: () => NOW },
    ttlMs: 86_400_000,
    publicUrl: () => 'http://127.0.0.1',
  });
  /** Decisions the agent made, and how many calls it should still fail as unreachable. */
  const decided: string[] = [];
  let unreachable = 0;
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(approvalRoutes, {
      links,
      keys: { links: key } as never,
      gateway: {
        status: async () => null,
        getApproval: async (_clientId: string, id: string) => ({ ...approval(id), state: decided.includes(id) ? 'approved' : 'pending' }),
        decide: async (_clientId: string, id: string) => {
          if (unreachable > 0) {
            unreachable -= 1;
            throw new FleetError('unavailable', 'agent not answering');
          }
          if (decided.includes(id)) throw new FleetError('conflict', 'already decided');
          decided.push(id);
          return { state: 'approved', execution: 'done' };
        },
      } as never,
    });
  });
  after(() => harness.close());

  const tokenOf = (url: string) => url.slice(url.indexOf('/a/') + 3);

  test('the retry the error page asks for works with the same link; the decision then uses it up', async () => {
    const link = tokenOf(links.linkFor('acme', 'ap-retry'));
    unreachable = 1;
    assert.notEqual((await harness.post('/approvals/ap-retry/approve', { link })).status, 200, 'the agent did not answer');
    assert.equal((await harness.get(`/approvals/ap-retry/edit?link=${encodeURIComponent(link)}`)).status, 200, 'the edit page still opens from the email');
    const retry = await harness.post('/approvals/ap-retry/approve', { link });
    assert.equal(retry.status, 200, retry.text);
    assert.deepEqual(decided, ['ap-retry']);
    assert.equal((await links.check(link)).ok, false, 'used by the decision');
  });

  test('a link stays bound to its client and approval, and a used one is refused', async () => {
    const other = tokenOf(links.linkFor('acme', 'ap-other'));
    assert.equal((await harness.post('/approvals/ap-mine/approve', { link: other })).status, 404, 'another approval’s link');
    const elsewhere = tokenOf(links.linkFor('globex', 'ap-mine'));
    assert.equal((await harness.post('/approvals/ap-mine/approve', { link: elsewhere })).status, 404, 'another client’s link');
    assert.ok(!decided.includes('ap-mine'), 'nothing decided with a foreign link');
    const link = tokenOf(links.linkFor('acme', 'ap-once'));
    assert.equal((await harness.post('/approvals/ap-once/approve', { link })).status, 200);
    assert.equal((await harness.post('/approvals/ap-once/reject', { link, reason: 'changed my mind' })).status, 404, 'a used link');
  });
});
