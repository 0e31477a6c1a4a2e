// Nothing the kill switch stopped goes out on its own after the revive: sends the outbox had not sent,
// approved sends that had not run, and replies kept waiting all wait for a human's fresh decision.
// Real outbox, approval store, state store, audit log, kill switch, send pipeline and approval desk; an
// in-memory provider, and a gate that allows every send unless killed (the gate is not under test here).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { approve, createApproval } from '../../../agent-image/src/domain/approval.ts';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { MailSend } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { openSendDeskBed, type SendDeskBed } from './send-desk-bed.ts';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example', timezone: 'Europe/Berlin' });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

/** Allows every action while the agent is not killed. */
const evaluateParsed: PolicyEvaluator['evaluateParsed'] = (_action, state) =>
  state.killed ? { decision: 'deny', reasons: ['killed'] } : { decision: 'allow', reasons: ['permitted'] };
const allowingGate = { evaluateParsed } as unknown as PolicyEvaluator;

function mailSend(to: string, body: string): MailSend {
  const parsed = parseProposedAction({ kind: 'mail.send', to: [to], subject: 'Re: Invoice', body, emailType: 'acknowledgement' });
  assert.ok(parsed.ok && parsed.action.kind === 'mail.send');
  return parsed.action;
}

interface Bed extends SendDeskBed {
  actions(): Promise<string[]>;
  /** The kill, then the revive as the runtime does it: holds first, then the switch released. */
  killAndRevive(): Promise<void>;
  /** A work round's send side: pending sends recovered, approved ones that waited run. */
  round(): Promise<void>;
}

async function bed(): Promise<Bed> {
  const opened = await openSendDeskBed({ config, gate: allowingGate, prefix: 'kill-holds-' });
  const { audit, kill, pipeline, outbox, provider, approvals } = opened;
  const now = () => opened.clock.now;
  return {
    ...opened,
    actions: async () => (await audit.read()).map((record) => record.action_type),
    killAndRevive: async () => {
      await kill.engage({ reason: 'the assistant wrote to the wrong people', by: 'admin:boss', at: now() });
      await pipeline.holdStoppedByKill('admin:boss');
      await kill.release();
    },
    round: async () => {
      if (outbox.list('pending').length > 0) await outbox.recover(provider);
      for (const entry of approvals.waitingExecution()) await pipeline.executeApproval(entry);
    },
  };
}

function heldApprovals(b: Bed): StoredApproval[] {
  return b.context.approvals.list(b.clock.now, 'pending').filter((entry) => entry.record.policyReasons.includes('held_by_kill_switch'));
}

describe('what the kill switch stopped waits for a human after the revive', () => {
  let b: Bed;
  beforeEach(async () => {
    b = await bed();
  });
  afterEach(async () => {
    await b.close();
  });

  test('a send the gate let go on its own, left pending by the provider when the kill came, is not sent at the revive; approved again, it goes once, unmarked', async () => {
    b.provider.failNextSend(new FleetError('unavailable', 'provider outage'));
    assert.equal(await b.pipeline.propose(mailSend('kim@partner.example', 'Thanks, received.'), { key: 'auto-1', messageId: null, draftId: null }), 'queued');
    assert.equal(b.context.outbox.get('auto-1')?.status, 'pending');

    await b.killAndRevive();
    await b.round();
    assert.equal(b.provider.sent.length, 0, 'nothing the kill stopped went out at the revive');
    assert.equal(b.context.outbox.get('auto-1')?.status, 'withdrawn');
    const [held, ...more] = heldApprovals(b);
    assert.ok(held !== undefined && more.length === 0, 'one approval asks about it');
    assert.equal(held.idempotencyKey, 'auto-1');
    assert.deepEqual(held.preview.to, ['kim@partner.example']);
    assert.equal(held.preview.bodyPreview, 'Thanks, received.');
    assert.ok((await b.actions()).includes('send_withdrawn'));

    await b.desk.decide(held.record.id, { decision: 'approve', by: 'boss' });
    assert.equal(b.provider.sendsFor('auto-1'), 1);
    assert.equal(b.provider.sent[0]?.message.text, 'Thanks, received.');
    assert.equal(b.provider.sent[0]?.message.headers['Auto-Submitted'], undefined, 'a human approved it: not marked automatic');
    assert.ok(b.provider.calls.indexOf('find:auto-1') < b.provider.calls.lastIndexOf('send:auto-1'), 'the provider is asked first whether the stopped send went');
    await b.round();
    assert.equal(b.provider.sendsFor('auto-1'), 1, 'never twice');
    assert.equal(b.context.outbox.get('auto-1')?.status, 'sent');
  });

  test('a stopped send the provider had in fact taken is recorded, not sent again, when approved', async () => {
    b.provider.failNextSend(new FleetError('unavailable', 'timeout'), { afterSending: true });
    await b.pipeline.propose(mailSend('kim@partner.example', 'Thanks.'), { key: 'auto-2', messageId: null, draftId: null });
    await b.killAndRevive();
    const [held] = heldApprovals(b);
    assert.ok(held);
    await b.desk.decide(held.record.id, { decision: 'approve', by: 'boss' });
    assert.equal(b.provider.sendsFor('auto-2'), 1);
    assert.equal(b.context.outbox.get('auto-2')?.reconciled, true);
  });

  test('a rejected or expired stopped send is discarded for good and audited', async () => {
    b.provider.failNextSend(new FleetError('unavailable', 'outage'));
    await b.pipeline.propose(mailSend('kim@partner.example', 'One.'), { key: 'auto-3', messageId: null, draftId: null });
    b.provider.failNextSend(new FleetError('unavailable', 'outage'));
    await b.pipeline.propose(mailSend('lee@partner.example', 'Two.'), { key: 'auto-4', messageId: null, draftId: null });
    await b.killAndRevive();
    const held = heldApprovals(b);
    const first = held.find((entry) => entry.idempotencyKey === 'auto-3');
    assert.ok(first && held.length === 2);
    await b.desk.decide(first.record.id, { decision: 'reject', by: 'boss', reason: 'wrong recipient' });
    assert.equal(b.context.outbox.get('auto-3')?.status, 'discarded');
    b.clock.now = new Date(b.clock.now.getTime() + (config.approvalTimeoutHours + 1) * 3_600_000);
    assert.equal(await b.desk.sweepExpired(), 1);
    assert.equal(b.context.outbox.get('auto-4')?.status, 'discarded');
    await b.round();
    assert.equal(b.provider.sent.length, 0);
    const discarded = (await b.context.audit.read()).filter((record) => record.action_type === 'send_discarded');
    assert.deepEqual(discarded.map((record) => [record.target, record.parameters['why']]), [['auto-3', 'rejected'], ['auto-4', 'expired']]);
  });

  test('an approval granted before the kill that had not run is asked again; the old one never runs', async () => {
    const action = mailSend('kim@partner.example', 'Approved before the kill.');
    const created = createApproval({ id: 'ap_before', actionKind: 'mail.send', arguments: action, now: b.clock.now, timeoutHours: 72 });
    assert.ok(created.ok);
    const decided = approve(created.record, { by: 'boss', via: 'portal', now: b.clock.now });
    assert.ok(decided.ok);
    await b.context.approvals.put({
      record: decided.record,
      idempotencyKey: 'approved-1',
      messageId: null,
      draftId: null,
      preview: { to: action.to, cc: [], subject: action.subject, bodyPreview: action.body, emailType: null },
      execution: 'waiting',
    });
    await b.killAndRevive();
    await b.round();
    assert.equal(b.provider.sent.length, 0, 'the approval given before the kill does not send after the revive');
    assert.equal(b.context.approvals.get('ap_before')?.execution, 'blocked');
    const [held] = heldApprovals(b);
    assert.ok(held);
    assert.equal(held.idempotencyKey, 'approved-1');
    const requested = (await b.context.audit.read()).find((record) => record.action_type === 'approval_requested');
    assert.equal(requested?.parameters['supersedes'], 'ap_before');
    await b.desk.decide(held.record.id, { decision: 'approve', by: 'boss' });
    assert.equal(b.provider.sendsFor('approved-1'), 1);
  });

  test('an approved calendar change that had not run is asked again too; the old approval never runs', async () => {
    const parsed = parseProposedAction({ kind: 'calendar.write', operation: 'create', title: 'Review', start: '2026-06-02T10:00:00+02:00', participants: ['kim@partner.example'] });
    assert.ok(parsed.ok);
    const created = createApproval({ id: 'ap_event', actionKind: 'calendar.write', arguments: parsed.action, now: b.clock.now, timeoutHours: 72 });
    assert.ok(created.ok);
    const decided = approve(created.record, { by: 'boss', via: 'portal', now: b.clock.now });
    assert.ok(decided.ok);
    await b.context.approvals.put({
      record: decided.record,
      idempotencyKey: 'event-1',
      messageId: null,
      draftId: null,
      preview: { to: ['kim@partner.example'], cc: [], subject: 'Review', bodyPreview: '', emailType: null },
      execution: 'waiting',
    });
    await b.killAndRevive();
    assert.equal(b.context.approvals.get('ap_event')?.execution, 'blocked');
    const [held, ...more] = heldApprovals(b);
    assert.ok(held !== undefined && more.length === 0);
    assert.equal(held.record.actionKind, 'calendar.write');
    assert.equal(held.record.proposedHash, decided.record.approvedHash, 'exactly what was approved, asked again');
    await b.killAndRevive();
    assert.equal(heldApprovals(b).length, 1, 'asked once');
  });

  test('a reply the loop kept waiting is marked, so the gate’s allow becomes an approval; a second revive asks nothing twice', async () => {
    await b.context.state.setProgress('msg-1', { stage: 'waiting_send', at: b.clock.now.toISOString(), key: 'reply-1', sendAction: { ...mailSend('kim@partner.example', 'Kept.') } });
    b.provider.failNextSend(new FleetError('unavailable', 'outage'));
    await b.pipeline.propose(mailSend('lee@partner.example', 'Pending.'), { key: 'auto-5', messageId: null, draftId: null });
    await b.killAndRevive();
    assert.equal(b.context.state.progress('msg-1')?.heldByKill, true);
    assert.equal(
      await b.pipeline.propose(mailSend('kim@partner.example', 'Kept.'), { key: 'reply-1', messageId: 'msg-1', draftId: null, heldByKill: true }),
      'approval',
    );
    assert.equal(b.provider.sent.length, 0);
    await b.killAndRevive();
    assert.deepEqual(heldApprovals(b).map((entry) => entry.idempotencyKey).sort(), ['auto-5', 'reply-1'], 'one approval per stopped send, however many revives');
  });

  test('the gate’s own allow goes to a withdrawn key only through the approval that asks', async () => {
    b.provider.failNextSend(new FleetError('unavailable', 'outage'));
    const action = mailSend('kim@partner.example', 'Same key again.');
    await b.pipeline.propose(action, { key: 'auto-6', messageId: null, draftId: null });
    await b.killAndRevive();
    assert.equal(await b.pipeline.propose(action, { key: 'auto-6', messageId: null, draftId: null }), 'approval');
    assert.equal(b.provider.sent.length, 0);
  });
});
