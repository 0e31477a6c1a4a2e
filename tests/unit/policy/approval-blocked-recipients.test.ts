// An approval covers the blocked recipients its approver was shown, not the reason code: a send approved
// because one recipient was blocked must not carry a second recipient blocked afterwards (a new settings
// version) or added by an edit.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { approve, approveEdited, companionApproval, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy, type EvaluateOptions } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { clientConfig, openTestRuntime } from '../agent-runtime/calendar-runtime-fixture.ts';
import { config, NOW, send, state } from './fixtures.ts';

const KNOWN = ['ann@rival.example', 'ben@other.example', 'cat@third.example'];
const proposal = send({ to: ['ann@rival.example', 'ben@other.example'], emailType: 'question' });
const admin = { by: 'owner@acme.com', via: 'portal', now: NOW };

/** The proposal held because ann@rival.example is blocked, as the approver saw it. */
function asked(): ApprovalRecord {
  const parsed = parseProposedAction(proposal);
  assert.ok(parsed.ok);
  const created = createApproval({ id: 'ap-b', actionKind: 'mail.send', arguments: parsed.action, policyReasons: ['blocked_recipient', 'type_not_auto_send'], now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  return created.record;
}

function granted(record: ApprovalRecord = asked()): ApprovalRecord {
  const result = approve(record, admin);
  assert.ok(result.ok);
  return result.record;
}

const blocking = (blockList: string[]) => config({ blockList, knownContacts: KNOWN });
const decide = (input: unknown, blockList: string[], options: EvaluateOptions) => evaluatePolicy(input, blocking(blockList), state(), NOW, options);

describe('an approval covers the blocked recipients its approver was shown', () => {
  it('runs under the settings it was asked under, the blocked recipient it was shown included', () => {
    assert.equal(decide(proposal, ['rival.example'], { approval: granted() }).decision, 'allow');
    assert.equal(decide(proposal, ['rival.example'], { approval: granted(), approvalSettingsChanged: false }).decision, 'allow');
  });

  it('a second recipient blocked by later settings holds it again, though the approval was asked for a blocked recipient', () => {
    const decision = decide(proposal, ['rival.example', 'other.example'], { approval: granted(), approvalSettingsChanged: true });
    assert.equal(decision.decision, 'needs_approval');
    assert.ok(decision.reasons.includes('blocked_recipient'));
    assert.match(decision.details?.join(' ') ?? '', /granted before blocked_recipient/);
  });

  it('under later settings even the same blocked recipient is asked again: who was blocked then is not known', () => {
    assert.equal(decide(proposal, ['rival.example'], { approval: granted(), approvalSettingsChanged: true }).decision, 'needs_approval');
    // Nothing blocked now: nothing to ask about.
    assert.equal(decide(proposal, [], { approval: granted(), approvalSettingsChanged: true }).decision, 'allow');
  });

  it('an edit that adds a blocked recipient is held again; one that keeps or drops the shown one runs', () => {
    const added = send({ to: ['ann@rival.example', 'cat@third.example'], emailType: 'question' });
    const addedParsed = parseProposedAction(added);
    assert.ok(addedParsed.ok);
    const edit = approveEdited(asked(), { ...admin, arguments: addedParsed.action });
    assert.ok(edit.ok);
    const held = decide(added, ['rival.example', 'third.example'], { approval: edit.record });
    assert.equal(held.decision, 'needs_approval');
    assert.ok(held.reasons.includes('blocked_recipient'));

    const dropped = send({ to: ['ann@rival.example'], emailType: 'question' });
    const droppedParsed = parseProposedAction(dropped);
    assert.ok(droppedParsed.ok);
    const narrower = approveEdited(asked(), { ...admin, arguments: droppedParsed.action });
    assert.ok(narrower.ok);
    assert.equal(decide(dropped, ['rival.example', 'third.example'], { approval: narrower.record }).decision, 'allow');
  });

  it('the event approved beside an email covers the blocked attendee it showed, though the email does not go to them', () => {
    const email = parseProposedAction(send({ to: ['ben@other.example'], emailType: 'question' }));
    const event = parseProposedAction({ kind: 'calendar.write', operation: 'create', title: 'Call', start: '2025-06-03T10:00:00Z', participants: ['ann@rival.example'] });
    assert.ok(email.ok && event.ok);
    const created = createApproval({ id: 'ap-c', actionKind: 'mail.send', arguments: email.action, companions: [event.action], policyReasons: ['blocked_recipient', 'type_not_auto_send'], now: NOW, timeoutHours: 72 });
    assert.ok(created.ok);
    const companion = companionApproval(granted(created.record), 0);
    assert.ok(companion !== undefined);
    assert.equal(decide(event.action, ['rival.example'], { approval: companion }).decision, 'allow');
    assert.equal(decide(event.action, ['rival.example'], { approval: companion, approvalSettingsChanged: true }).decision, 'needs_approval');
  });
});

describe('the executor tells the gate when the settings changed since the approval was asked', () => {
  const cfg = clientConfig({
    mailbox: 'me@acme.example',
    permissions: { 'mail.send': true },
    knownContacts: KNOWN,
    blockList: ['rival.example', 'other.example'],
  });
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'approval-blocked-'));
    const opened = await openTestRuntime(directory, cfg);
    audit = opened.audit;
    // Version 7 in force: other.example was blocked by it.
    context = { ...opened.context, settings: fixedSettings(cfg, 7) } as RuntimeContext;
  });
  after(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function stored(id: string, settingsVersion: number): Promise<StoredApproval> {
    const parsed = parseProposedAction(proposal);
    assert.ok(parsed.ok);
    const created = createApproval({ id, actionKind: 'mail.send', arguments: parsed.action, policyReasons: ['blocked_recipient', 'type_not_auto_send'], now: context.now(), timeoutHours: 72 });
    assert.ok(created.ok);
    const decided = approve(created.record, { by: 'boss', via: 'portal', now: context.now() });
    assert.ok(decided.ok);
    const entry: StoredApproval = {
      record: decided.record,
      idempotencyKey: `key-${id}`,
      messageId: null,
      draftId: null,
      preview: { to: ['ann@rival.example', 'ben@other.example'], cc: [], subject: 'Re: lunch', bodyPreview: '', emailType: 'question' },
      execution: 'waiting',
      settingsVersion,
    };
    await context.approvals.put(entry);
    return entry;
  }

  it('an approval asked under version 6 is held again under version 7, on a new approval', async () => {
    const pipeline = new SendPipeline(context);
    assert.equal(await pipeline.executeApproval(await stored('ap_old', 6)), 'blocked');
    const again = context.approvals.list(context.now(), 'pending').find((entry) => entry.idempotencyKey === 'key-ap_old');
    assert.ok(again !== undefined, 'a new approval asks again');
    assert.ok(again.record.policyReasons.includes('blocked_recipient'));
    assert.equal(again.settingsVersion, 7);
  });

  it('an approval asked under the version in force goes on to send', async () => {
    const pipeline = new SendPipeline(context);
    // No mailbox receipts in this runtime: an allowed send waits for one, nothing is held again.
    assert.equal(await pipeline.executeApproval(await stored('ap_now', 7)), 'waiting');
    assert.equal(context.approvals.list(context.now(), 'pending').some((entry) => entry.idempotencyKey === 'key-ap_now'), false);
  });
});
