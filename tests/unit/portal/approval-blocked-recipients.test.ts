// The approval page names the recipients on the client's block list: an approval held for one covers the
// blocked recipients recorded with it, so the approver must see which they are, in words (not colour), in
// each list and in a sentence saying that approving sends to them anyway. The list crosses from the agent's
// JSON checked and bounded; approvals made before it was kept show nothing extra.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ApprovalDetail } from '../../../orchestrator/src/portal/client-gateway.ts';
import { toApprovalDetail, type AgentApprovalView } from '../../../orchestrator/src/portal/gateway/approval-mapping.ts';
import { approvalRoutes } from '../../../orchestrator/src/portal/http/routes-approvals.ts';
import { pendingMailSend } from '../../helpers/pending-approval.ts';
import { startRouteHarness, type RouteHarness } from './portal-route-harness.ts';

const PROPOSED = {
  kind: 'mail.send',
  to: ['kim@partner.example', 'Ann@Rival.example'],
  cc: ['copy@acme.example'],
  bcc: ['collector@outside.example'],
  subject: 'Prices',
  body: 'Attached.',
};

function agentView(blockedRecipients?: unknown): AgentApprovalView {
  return {
    id: 'ap-blocked',
    status: 'pending',
    action: 'mail.send',
    reasons: ['blocked_recipient'],
    signals: [],
    sender: null,
    createdAt: '2026-03-10T10:00:00.000Z',
    expiresAt: '2026-03-13T10:00:00.000Z',
    decision: null,
    draft: { to: PROPOSED.to, cc: PROPOSED.cc, bcc: PROPOSED.bcc, subject: PROPOSED.subject, body: PROPOSED.body },
    arguments: PROPOSED,
    thread: [],
    threadAvailable: true,
    event: null,
    ...(blockedRecipients === undefined ? {} : { blockedRecipients }),
  };
}

const approvals: Record<string, ApprovalDetail> = {
  'ap-blocked': { ...toApprovalDetail(agentView(['ann@rival.example', 'collector@outside.example'])), id: 'ap-blocked' },
  'ap-one': { ...toApprovalDetail(agentView(['ann@rival.example'])), id: 'ap-one' },
  'ap-older': { ...pendingMailSend('ap-older', PROPOSED), reasons: ['blocked_recipient'] },
  'ap-calendar': {
    ...pendingMailSend('ap-calendar', PROPOSED),
    action: 'calendar.write',
    draft: null,
    arguments: { kind: 'calendar.write', operation: 'cancel', eventId: 'ev1' },
    reasons: ['blocked_recipient'],
    event: { title: 'Board meeting', start: '2026-03-12T15:00:00.000Z', end: null, timeZone: 'Europe/London', attendees: ['a@partner.example', 'b@rival.example'] },
    blockedRecipients: ['b@rival.example'],
  },
};

/** The page as a person reads it: a field's name apart from its value, other tags dropped, white space collapsed. */
function words(html: string): string {
  return html.replace(/<\/dt>/g, ' ').replace(/<[^>]*>/g, '').replace(/&#39;/g, "'").replace(/\s+/g, ' ');
}

describe('approval mapping: blocked recipients from the agent', () => {
  test('the list the agent kept reaches the page as given', () => {
    assert.deepEqual(toApprovalDetail(agentView(['ann@rival.example'])).blockedRecipients, ['ann@rival.example']);
  });

  test('an approval made before the list was kept (absent or null) has none', () => {
    assert.deepEqual(toApprovalDetail(agentView()).blockedRecipients, []);
    assert.deepEqual(toApprovalDetail(agentView(null)).blockedRecipients, []);
  });

  test('a malformed or unbounded list is refused, not dropped', () => {
    for (const bad of ['ann@rival.example', [42], [''], ['x'.repeat(1001)], Array.from({ length: 20_001 }, () => 'a@b.example')]) {
      assert.throws(
        () => toApprovalDetail(agentView(bad)),
        (error: unknown) => isFleetError(error) && error.code === 'integrity',
      );
    }
  });
});

describe('approval page: blocked recipients', () => {
  let harness: RouteHarness;
  before(async () => {
    harness = await startRouteHarness(approvalRoutes, {
      gateway: {
        status: () => Promise.resolve(null),
        getApproval: (_clientId: string, id: string) => Promise.resolve(approvals[id] ?? null),
      } as never,
    });
  });
  after(() => harness.close());

  test('each blocked address is marked in words in its list, whatever its case; the others are not', async () => {
    const page = await harness.get('/approvals/ap-blocked');
    assert.equal(page.status, 200);
    const text = words(page.text);
    assert.match(text, /To kim@partner\.example, Ann@Rival\.example \(on your block list\)/);
    assert.match(text, /Bcc collector@outside\.example \(on your block list\)/);
    assert.doesNotMatch(text, /kim@partner\.example \(on your block list\)|copy@acme\.example \(on your block list\)/);
    assert.match(page.text, /<bdi>Ann@Rival\.example<\/bdi> <strong>\(on your block list\)<\/strong>/, 'the mark is text, not colour');
  });

  test('a sentence names them and says that approving sends to them anyway, also beside the approve button', async () => {
    const text = words((await harness.get('/approvals/ap-blocked')).text);
    assert.match(text, /On your block list: ann@rival\.example, collector@outside\.example\. If you approve, the email is sent to these addresses anyway\./);
    assert.match(text, /Its recipients include these addresses on your block list: ann@rival\.example, collector@outside\.example\./);
    assert.match(words((await harness.get('/approvals/ap-one')).text), /If you approve, the email is sent to this address anyway\./);
  });

  test('a held calendar change marks the blocked attendee and says the calendar notifies them anyway', async () => {
    const text = words((await harness.get('/approvals/ap-calendar')).text);
    assert.match(text, /Attendees a@partner\.example, b@rival\.example \(on your block list\)/);
    assert.match(text, /On your block list: b@rival\.example\. If you approve, your calendar notifies this address anyway\./);
  });

  test('an approval made before the list was kept shows nothing extra', async () => {
    const page = await harness.get('/approvals/ap-older');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /block list/);
    assert.match(page.text, /<dt>To<\/dt><dd><bdi>kim@partner\.example, Ann@Rival\.example<\/bdi><\/dd>/);
  });
});
