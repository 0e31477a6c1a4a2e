// The approval edit page and its post: the Bcc the model added can be changed or dropped like To and Cc,
// and what the admin leaves is exactly what the edited action (which the agent's gate re-checks) carries.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ApprovalDecision, ApprovalDetail } from '../../../orchestrator/src/portal/client-gateway.ts';
import { editedArguments } from '../../../orchestrator/src/portal/gateway/approval-mapping.ts';
import { approvalRoutes } from '../../../orchestrator/src/portal/http/routes-approvals.ts';
import { pendingMailSend } from '../../helpers/pending-approval.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const PROPOSED = {
  kind: 'mail.send',
  to: ['client@example.com'],
  cc: [],
  bcc: ['collector@outside.example'],
  subject: 'Quarterly figures',
  body: 'Attached as discussed.',
  inReplyTo: 'm-1',
};

const approval = (): ApprovalDetail => pendingMailSend('ap-bcc', PROPOSED);

describe('approval edit: Bcc', () => {
  /** The edited arguments the agent was asked to run, built as the services gateway builds them. */
  let sentToAgent: Record<string, unknown>[];
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(approvalRoutes, {
      gateway: {
        status: () => Promise.resolve(null),
        getApproval: (_clientId: string, id: string) => Promise.resolve(id === 'ap-bcc' ? approval() : null),
        decide: (_clientId: string, _id: string, decision: ApprovalDecision) => {
          if (decision.decision === 'edit') sentToAgent.push(editedArguments(PROPOSED, decision.draft));
          return Promise.resolve({ state: 'edited', execution: 'done' });
        },
      } as never,
    });
  });
  after(() => harness.close());
  beforeEach(() => {
    sentToAgent = [];
  });

  test('the edit page offers the Bcc as an editable field, holding what the model wrote', async () => {
    const page = await harness.get('/approvals/ap-bcc/edit');
    assert.equal(page.status, 200);
    assert.match(page.text, /<input id="bcc" name="bcc" type="text" maxlength="20000" value="collector@outside\.example"/);
  });

  test('an admin who empties the Bcc sends with no blind copy', async () => {
    const answer = await harness.post('/approvals/ap-bcc/edit', { to: 'client@example.com', cc: '', bcc: '', subject: 'Quarterly figures', body: 'Attached.' });
    assert.equal(answer.status, 200);
    assert.deepEqual(sentToAgent.map((args) => args['bcc']), [[]]);
  });

  test('a changed Bcc replaces the proposed one, read and checked as To and Cc are', async () => {
    await harness.post('/approvals/ap-bcc/edit', { to: 'client@example.com', bcc: 'Archive@ACME.example', subject: 'Quarterly figures', body: 'Attached.' });
    assert.deepEqual(sentToAgent.map((args) => args['bcc']), [['archive@acme.example']]);
    const bad = await harness.post('/approvals/ap-bcc/edit', { to: 'client@example.com', bcc: 'not an address', subject: 'S', body: 'B' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /bcc/);
    assert.equal(sentToAgent.length, 1);
  });

  test('an edit that says nothing of the Bcc keeps the proposal’s; the rest of the action is kept', () => {
    const kept = editedArguments(PROPOSED, { to: ['c@d.example'], cc: [], subject: 'S', body: 'B' });
    assert.deepEqual(kept, { ...PROPOSED, to: ['c@d.example'], subject: 'S', body: 'B' });
  });
});
