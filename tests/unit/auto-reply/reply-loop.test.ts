// A known contact whose own auto-responder marks nothing (no Auto-Submitted, no Precedence, no X-Autoreply)
// answers every automatic acknowledgement of ours with an automatic reply, which our agent answers again.
// Reproduced through the real send path: SendPipeline → gate → executeSend → outbox, with the real stores
// in a temporary volume, an in-memory mailbox send side and a clock that moves as the mail goes back and
// forth. What must happen: a few automatic replies at most, then the next one waits for a human, with a
// reason the approver can read; sending is never paused for the whole client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { compileTemplates, renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import type { AutoSendContext, TemplateFacts } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { noReplyReason } from '../../../agent-image/src/services/mail-loop/auto-reply-rules.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { AgentStateStore, type PauseReason } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { ApprovalStore } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { SendPipeline, type ProposeOutcome } from '../../../agent-image/src/services/runtime/send-pipeline.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from '../outbox/fake-send-receipts.ts';
import { volumePause } from '../outbox/volume-pause.ts';

const START = new Date('2026-03-02T09:00:00Z');
const CONTACT = 'kim@partner.example';
/** How long the two auto-responders take to answer each other. */
const TURN_MS = 2 * 60_000;

const config: ClientConfig = (() => {
  const parsed = parseClientConfig({
    client: 'acme',
    mailbox: 'me@acme.example',
    onboarding: { startedAt: '2026-01-01T00:00:00Z', days: 28 },
    knownContacts: [CONTACT],
    permissions: { 'mail.send': true },
    autoReply: { signature: 'Sam, Acme' },
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Bed {
  pipeline: SendPipeline;
  receipts: FakeSendReceipts;
  pauses: Array<{ reason: PauseReason; detail: string }>;
  approvals: ApprovalStore;
  advance(milliseconds: number): Date;
}

/** The send side of one client's agent: real gate, state, approvals, audit log and outbox in a temporary volume. */
async function bed(): Promise<Bed> {
  const directory = await temporaryDirectory('reply-loop');
  cleanups.push(directory.remove);
  const key = randomBytes(32);
  const keys = KeyRing.single(key);
  let clock = START;
  const now = () => clock;
  const audit = await AuditLog.open({ directory: join(directory.path, 'audit'), keys, now });
  cleanups.push(() => audit.close());
  const state = await AgentStateStore.open({ directory: join(directory.path, 'state-gate'), keys, now });
  const approvals = await ApprovalStore.open({ directory: join(directory.path, 'state-gate'), keys, now });
  const outbox = await Outbox.open({ directory: join(directory.path, 'outbox'), keys, audit, now, pause: await volumePause(directory.path, key) });
  const kill = new KillSwitch(join(directory.path, 'KILLED'));
  const receipts = new FakeSendReceipts();
  await outbox.recover(receipts);
  const pauses: Bed['pauses'] = [];
  const context = {
    config,
    gate: fixedSettings(config).current().gate,
    settings: fixedSettings(config),
    state,
    approvals,
    audit,
    outbox,
    kill,
    metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
    logger: createSilentLogger(),
    now,
    policyState: () => ({ ...state.policy, killed: kill.killed }),
    receipts: () => receipts,
    pause: async (reason: PauseReason, detail: string) => {
      pauses.push({ reason, detail });
      await state.setPause({ reason, since: clock.toISOString(), detail });
    },
  } satisfies Partial<RuntimeContext>;
  const pipeline = new SendPipeline(context as unknown as RuntimeContext);
  return {
    pipeline,
    receipts,
    pauses,
    approvals,
    advance: (milliseconds) => (clock = new Date(clock.getTime() + milliseconds)),
  };
}

/** The contact's auto-reply as our mailbox reads it: a plain message, none of the usual markers. */
function autoResponderMessage(turn: number, thread: string, subject: string, receivedAt: Date): MailMessage {
  return {
    id: `in-${turn}`,
    threadId: thread,
    from: { address: CONTACT, name: 'Kim Berger' },
    to: [{ address: 'me@acme.example', name: null }],
    cc: [],
    replyTo: [],
    subject,
    date: null,
    messageId: `<auto-${turn}@partner.example>`,
    inReplyTo: turn === 0 ? null : `<re-${turn - 1}@acme.example>`,
    references: [],
    listId: null,
    autoSubmitted: null,
    precedence: null,
    idempotencyKey: null,
    authenticationResults: [],
    textBody: 'Thank you for your email. I am out of the office and will reply on my return.',
    receivedAt,
    labels: [],
    autoReplyHeaders: {},
  };
}

/** What the mail loop proposes for one inbound message: the acknowledgement template, rendered, to its authenticated sender. */
function acknowledgement(message: MailMessage): { action: Parameters<SendPipeline['propose']>[0]; autoSend: AutoSendContext } {
  const facts: TemplateFacts = { originalSubject: message.subject, nameSources: [message.from?.name], freeSlots: [] };
  const choice = { type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Kim' } };
  const rendered = renderTemplateReply(choice, compileTemplates(config.autoReply), {
    language: config.autoReply.language,
    timeZone: config.timezone,
    signature: config.autoReply.signature,
    ...facts,
    now: START,
  });
  assert.ok(rendered.ok, JSON.stringify(rendered));
  const parsed = parseProposedAction({
    kind: 'mail.send',
    to: [CONTACT],
    subject: rendered.reply.subject,
    body: rendered.reply.body,
    emailType: 'acknowledgement',
    inReplyTo: message.id,
  });
  assert.ok(parsed.ok && parsed.action.kind === 'mail.send');
  return {
    action: parsed.action,
    autoSend: {
      inbound: { messageId: message.id, senderAddress: CONTACT, senderAuthenticated: true, injectionSignals: [], thread: message.threadId, receivedAt: message.receivedAt.getTime() },
      templateReply: { choice, facts },
    },
  };
}

/**
 * Plays the two auto-responders against each other for `turns` inbound messages, or until our side stops
 * answering on its own. `threadOf(turn)`: the conversation the contact's auto-reply lands in.
 */
async function pingPong(b: Bed, turns: number, threadOf: (turn: number) => string): Promise<ProposeOutcome[]> {
  const outcomes: ProposeOutcome[] = [];
  let subject = 'Invoice 42';
  for (let turn = 0; turn < turns; turn++) {
    const message = autoResponderMessage(turn, threadOf(turn), subject, new Date(START.getTime() + turn * TURN_MS));
    assert.equal(noReplyReason(message, new Set(['me@acme.example'])), null, 'nothing in the headers says it is machine mail');
    const { action, autoSend } = acknowledgement(message);
    const outcome = await b.pipeline.propose(action, { key: `re-${turn}`, messageId: message.id, draftId: null, autoSend });
    outcomes.push(outcome);
    if (outcome !== 'sent') break;
    subject = `Automatic reply: ${action.subject}`;
    b.advance(TURN_MS);
  }
  return outcomes;
}

describe('auto-reply loop with a contact whose auto-responder sets no markers', () => {
  it('one automatic reply per conversation: the next one in the same thread waits for a human, sending is not paused', async () => {
    const b = await bed();
    const outcomes = await pingPong(b, 30, () => 'thread-1');
    assert.deepEqual(outcomes, ['sent', 'approval'], 'one acknowledgement goes out, the answer to the auto-reply is held');
    assert.equal(b.receipts.sent.length, 1);
    assert.deepEqual(b.pauses, [], 'the client’s sending is never paused by the loop');
    const held = b.approvals.list(START).find((entry) => entry.idempotencyKey === 're-1');
    assert.ok(held !== undefined, 'the held reply is an approval a human sees');
    assert.ok(held.record.policyReasons.includes('auto_reply_loop'), JSON.stringify(held.record.policyReasons));
    assert.match(gateReasonText('auto_reply_loop'), /automatic/i);
    assert.doesNotMatch(gateReasonText('auto_reply_loop'), /_/);
  });

  it('at most ten automatic replies per recipient a day even when every auto-reply starts a new thread, under the hourly limit', async () => {
    const b = await bed();
    const outcomes = await pingPong(b, 30, (turn) => `thread-${turn}`);
    assert.equal(outcomes.at(-1), 'approval');
    assert.equal(outcomes.length - 1, 10, 'ten automatic replies before a human is asked');
    assert.equal(b.receipts.sent.length, outcomes.length - 1);
    assert.deepEqual(b.pauses, []);
  });

  it('after a day without automatic replies the contact gets an automatic acknowledgement again', async () => {
    const b = await bed();
    assert.deepEqual(await pingPong(b, 30, () => 'thread-1'), ['sent', 'approval']);
    const arrived = b.advance(24 * 60 * 60_000);
    const later = autoResponderMessage(100, 'thread-2', 'New order', arrived);
    const { action, autoSend } = acknowledgement(later);
    assert.equal(await b.pipeline.propose(action, { key: 're-100', messageId: later.id, draftId: null, autoSend }), 'sent');
  });

  it('a burst the contact sent before any answer (a dozen invoices) is acknowledged in full: none of it answers an answer', async () => {
    const b = await bed();
    const outcomes: ProposeOutcome[] = [];
    for (let index = 0; index < 12; index++) {
      const message = autoResponderMessage(200 + index, `invoice-${index}`, `Invoice ${index}`, START);
      const { action, autoSend } = acknowledgement(message);
      outcomes.push(await b.pipeline.propose(action, { key: `re-invoice-${index}`, messageId: message.id, draftId: null, autoSend }));
      b.advance(1_000);
    }
    assert.deepEqual(outcomes, Array.from({ length: 12 }, () => 'sent'));
    // The contact then writes again, after all those answers: one exchange, answered on its own too.
    const next = autoResponderMessage(300, 'order', 'Order 1', b.advance(60_000));
    const { action, autoSend } = acknowledgement(next);
    assert.equal(await b.pipeline.propose(action, { key: 're-order', messageId: next.id, draftId: null, autoSend }), 'sent');
    assert.deepEqual(b.pauses, []);
  });
});
