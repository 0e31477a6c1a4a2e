// Two admins deciding one approval at the same moment (one approves from the email link while the other
// edits out a Bcc in the portal): exactly one decision is made, audited and carried out; the other is
// refused as already decided. Real approval store, audit log, outbox, send pipeline and approval desk; a
// gate that holds every send until it is approved (the gate itself is not under test here).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { MailSend } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { openSendDeskBed } from '../agent-runtime/send-desk-bed.ts';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

/** Holds every send for approval; runs one under a valid approval. */
const evaluateParsed: PolicyEvaluator['evaluateParsed'] = (_action, _state, _now, options) =>
  options?.approval === undefined ? { decision: 'needs_approval', reasons: ['new_contact'] } : { decision: 'allow', reasons: ['approved'] };
const holdingGate = { evaluateParsed } as unknown as PolicyEvaluator;

const PROPOSED = { kind: 'mail.send', to: ['client@example.com'], bcc: ['collector@outside.example'], subject: 'Figures', body: 'Attached.', emailType: 'question' };

async function bed() {
  const opened = await openSendDeskBed({ config, gate: holdingGate, prefix: 'decide-race-' });
  const parsed = parseProposedAction(PROPOSED);
  assert.ok(parsed.ok && parsed.action.kind === 'mail.send');
  assert.equal(await opened.pipeline.propose(parsed.action as MailSend, { key: 'send-1', messageId: null, draftId: null }), 'approval');
  const [pending] = opened.approvals.list(opened.clock.now, 'pending');
  assert.ok(pending !== undefined);
  return {
    ...opened,
    id: pending.record.id,
    decisions: async () => (await opened.audit.read()).filter((record) => record.action_type === 'approval_decided'),
  };
}

describe('one approval decided twice at once', () => {
  let b: Awaited<ReturnType<typeof bed>>;
  beforeEach(async () => {
    b = await bed();
  });
  afterEach(() => b.close());

  test('an approval and an edit dropping the Bcc, at once: one is made and carried out, the other is refused', async () => {
    const results = await Promise.allSettled([
      b.desk.decide(b.id, { decision: 'approve', by: 'dana' }),
      b.desk.decide(b.id, { decision: 'edit', by: 'lee', arguments: { ...PROPOSED, bcc: [] } }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /already decided/);
    assert.equal((await b.decisions()).length, 1, 'one decision in the audit log');
    assert.equal(b.provider.sendsFor('send-1'), 1);
  });

  test('a rejection racing an approval never leaves a sent email recorded as rejected', async () => {
    const results = await Promise.allSettled([
      b.desk.decide(b.id, { decision: 'approve', by: 'dana' }),
      b.desk.decide(b.id, { decision: 'reject', by: 'lee', reason: 'wrong recipient' }),
    ]);
    assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected']);
    assert.equal(b.desk.approvalAsOf(b.id)?.record.status, 'approved');
    assert.equal((await b.decisions()).length, 1);
  });
});
