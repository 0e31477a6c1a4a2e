// An approval records which recipients were blocked when it was asked (the approver was told so): it covers
// those, whatever the settings did since, and nobody blocked after it was given.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy, type EvaluateOptions } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { MailSend } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { SendPipeline } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { clientConfig, openTestRuntime } from '../agent-runtime/calendar-runtime-fixture.ts';
import { config, NOW, send, state } from './fixtures.ts';

const KNOWN = ['ann@rival.example', 'ben@other.example'];
const proposal = send({ to: ['ann@rival.example', 'ben@other.example'], emailType: 'question' });

function granted(): ApprovalRecord {
  const parsed = parseProposedAction(proposal);
  assert.ok(parsed.ok);
  const created = createApproval({ id: 'ap-s', actionKind: 'mail.send', arguments: parsed.action, policyReasons: ['blocked_recipient', 'type_not_auto_send'], now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const approved = approve(created.record, { by: 'owner@acme.com', via: 'portal', now: NOW });
  assert.ok(approved.ok);
  return approved.record;
}

const decide = (blockList: string[], options: EvaluateOptions) => evaluatePolicy(proposal, config({ blockList, knownContacts: KNOWN }), state(), NOW, options).decision;

describe('the gate: an approval covers the recipients it recorded as blocked', () => {
  it('a later settings change that blocks no one new does not ask again', () => {
    const options = { approval: granted(), approvalSettingsChanged: true, approvalBlocked: ['ann@rival.example'] };
    assert.equal(decide(['rival.example', 'unrelated.example'], options), 'allow');
    assert.equal(decide(['ann@rival.example'], options), 'allow');
  });

  it('a recipient blocked after the approval was given holds it again, with or without a settings change', () => {
    for (const approvalSettingsChanged of [true, false]) {
      assert.equal(decide(['rival.example', 'other.example'], { approval: granted(), approvalSettingsChanged, approvalBlocked: ['ann@rival.example'] }), 'needs_approval');
      assert.equal(decide(['rival.example'], { approval: granted(), approvalSettingsChanged, approvalBlocked: [] }), 'needs_approval');
    }
  });

  it('a recorded address the action does not reach covers nothing', () => {
    assert.equal(decide(['rival.example'], { approval: granted(), approvalBlocked: ['ben@other.example', 'zed@rival.example'] }), 'needs_approval');
  });
});

describe('the runtime records who was blocked when it asks, and asks again only for someone blocked since', () => {
  const base = { mailbox: 'me@acme.example', permissions: { 'mail.send': true }, knownContacts: KNOWN } as const;
  const asked = clientConfig({ ...base, blockList: ['rival.example'] });
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;
  let proposedSend: MailSend;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'approval-blocked-shown-'));
    const opened = await openTestRuntime(directory, asked);
    audit = opened.audit;
    context = { ...opened.context, settings: fixedSettings(asked, 3) } as RuntimeContext;
    const parsed = parseProposedAction(proposal);
    assert.ok(parsed.ok && parsed.action.kind === 'mail.send');
    proposedSend = parsed.action;
  });
  after(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  /** Proposes the send under version 3, approves the approval it is held on, and returns it. */
  async function heldAndApproved(key: string): Promise<StoredApproval> {
    const pipeline = new SendPipeline(context);
    assert.equal(await pipeline.propose(proposedSend, { key, messageId: null, draftId: null }), 'approval');
    const held = context.approvals.list(context.now(), 'pending').find((entry) => entry.idempotencyKey === key);
    assert.ok(held !== undefined);
    assert.deepEqual(held.blockedRecipients, ['ann@rival.example']);
    const approved = approve(held.record, { by: 'boss', via: 'portal', now: context.now() });
    assert.ok(approved.ok);
    const entry: StoredApproval = { ...held, record: approved.record, execution: 'waiting' };
    await context.approvals.put(entry);
    return entry;
  }

  /** Runs the approval under another version; what became of it, and the approvals pending for its send. */
  async function runUnder(entry: StoredApproval, blockList: string[], version: number): Promise<{ execution: string; again: StoredApproval[] }> {
    const later = { ...context, settings: fixedSettings(clientConfig({ ...base, blockList }), version) } as RuntimeContext;
    const execution = await new SendPipeline(later).executeApproval(entry);
    return { execution, again: later.approvals.list(later.now(), 'pending').filter((pending) => pending.idempotencyKey === entry.idempotencyKey) };
  }

  it('a new version that blocks no recipient anew lets the approved send go on', async () => {
    const entry = await heldAndApproved('key-unrelated');
    // No mailbox receipts in this runtime: an allowed send waits for one; nothing is asked again.
    assert.deepEqual(await runUnder(entry, ['rival.example', 'unrelated.example'], 4), { execution: 'waiting', again: [] });
  });

  it('a new version that blocks another recipient asks again, recording both as blocked', async () => {
    const entry = await heldAndApproved('key-another');
    const { execution, again } = await runUnder(entry, ['rival.example', 'other.example'], 5);
    assert.equal(execution, 'blocked');
    assert.equal(again.length, 1);
    assert.ok(again[0]?.record.policyReasons.includes('blocked_recipient'));
    assert.deepEqual(again[0]?.blockedRecipients?.sort(), ['ann@rival.example', 'ben@other.example']);
  });
});
