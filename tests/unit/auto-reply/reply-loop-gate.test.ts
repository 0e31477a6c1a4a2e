// The gate's reply-loop limits on their own: pure, injected clock, the history reaching the gate through
// the policy state exactly as the rate-limit history does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { gateReasonText } from '@agent-fleet/kernel/gate-reason-text';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { compileTemplates, renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import { autoSendUsage, DEFAULT_AUTO_SEND_LIMITS } from '../../../agent-image/src/domain/policy/auto-send-limits.ts';
import type { AutoSendContext, TemplateFacts } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { evaluatePolicy, type EvaluateOptions } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import {
  emptyPolicyState,
  learnContacts,
  parsePolicyState,
  recordSend,
  serialisePolicyState,
  type PolicyState,
} from '../../../agent-image/src/domain/policy/policy-state.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { NOW, config } from '../policy/fixtures.ts';

const SENDER = 'bob@partner.com';
const OTHER = 'carol@partner.com';
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const templatesOnly = (): ClientConfig => config({ autoReply: { signature: 'Sam, Acme' } });
const CFG = templatesOnly();
const FACTS: TemplateFacts = { originalSubject: 'Invoice 42', nameSources: ['Bob Builder'], freeSlots: [] };
const CHOICE = { type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Bob' } };

/** The acknowledgement template reply to `to`, exactly as the gate renders it again. */
function acknowledgement(to: string = SENDER, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const rendered = renderTemplateReply(CHOICE, compileTemplates(CFG.autoReply), {
    language: CFG.autoReply.language,
    timeZone: CFG.timezone,
    signature: CFG.autoReply.signature,
    ...FACTS,
    now: NOW,
  });
  if (!rendered.ok) throw new Error(rendered.issues.join('; '));
  return { kind: 'mail.send', to: [to], subject: rendered.reply.subject, body: rendered.reply.body, emailType: 'acknowledgement', inReplyTo: 'm-1', ...overrides };
}

function context(thread: string | undefined, sender: string = SENDER, overrides: Partial<AutoSendContext['inbound']> = {}): AutoSendContext {
  return {
    inbound: { messageId: 'm-1', senderAddress: sender, senderAuthenticated: true, injectionSignals: [], ...(thread === undefined ? {} : { thread }), ...overrides },
    templateReply: { choice: CHOICE, facts: FACTS },
  };
}

const known = (): PolicyState => learnContacts(emptyPolicyState(), [SENDER, OTHER]);
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

/** The state after automatic replies to `to` at the given offsets (before NOW), each in `thread`. */
function afterAutomatic(replies: Array<{ offsetMs: number; thread?: string; to?: string }>, state = known()): PolicyState {
  let next = state;
  for (const reply of replies) next = recordSend(next, at(reply.offsetMs), [reply.to ?? SENDER], { automatic: true, thread: reply.thread });
  return next;
}

const decide = (action: unknown, state: PolicyState, options: EvaluateOptions = {}, now = NOW) => evaluatePolicy(action, CFG, state, now, options);

describe('reply-loop limits: at most one automatic reply per thread a day', () => {
  it('the first automatic reply in a thread auto-sends', () => {
    const decision = decide(acknowledgement(), known(), { autoSend: context('t-1') });
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['auto_send']);
  });

  it('a second automatic reply into the same thread waits for a human, with the reason and a readable detail', () => {
    const decision = decide(acknowledgement(), afterAutomatic([{ offsetMs: -2 * MINUTE, thread: 't-1' }]), { autoSend: context('t-1') });
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['auto_reply_loop']);
    assert.match(decision.details?.join(' ') ?? '', /thread/);
    assert.doesNotMatch(decision.details?.join(' ') ?? '', /bob@partner\.com/, 'details never name addresses');
  });

  it('a reply in another thread of the same contact still auto-sends, under the per-recipient limit', () => {
    const state = afterAutomatic([{ offsetMs: -2 * MINUTE, thread: 't-1' }]);
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-2') }).reasons, ['auto_send']);
  });

  it('a reply whose thread is unknown is limited per recipient only', () => {
    const state = afterAutomatic([{ offsetMs: -2 * MINUTE }]);
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context(undefined) }).reasons, ['auto_send']);
  });
});

describe('reply-loop limits: a few automatic sends per recipient a day', () => {
  const limit = DEFAULT_AUTO_SEND_LIMITS.perRecipient;
  const replies = (count: number, to = SENDER) => Array.from({ length: count }, (_, index) => ({ offsetMs: -(index + 1) * 10 * MINUTE, thread: `t-${index}`, to }));

  it(`defaults: one per thread, ${limit} per recipient, over a rolling day`, () => {
    assert.deepEqual(DEFAULT_AUTO_SEND_LIMITS, { perRecipient: 10, perThread: 1, windowMs: DAY });
  });

  it('up to the limit, each in a new thread, they auto-send; the next one waits for a human', () => {
    assert.deepEqual(decide(acknowledgement(), afterAutomatic(replies(limit - 1)), { autoSend: context('t-new') }).reasons, ['auto_send']);
    const held = decide(acknowledgement(), afterAutomatic(replies(limit)), { autoSend: context('t-new') });
    assert.equal(held.decision, 'needs_approval');
    assert.deepEqual(held.reasons, ['auto_reply_loop']);
    assert.match(held.details?.join(' ') ?? '', new RegExp(`wrote back after an automatic email ${limit} time`));
  });

  it('a correspondent writing again after each automatic answer is an exchange a turn; a burst already there before any answer is one', () => {
    const base = NOW.getTime() - DAY / 2;
    // Twelve messages that arrived at `base`, answered one a second later each: none arrived after an answer.
    let burst = known();
    for (let index = 0; index < 12; index++) burst = recordSend(burst, new Date(base + (index + 1) * 1000), [SENDER], { automatic: true, thread: `b-${index}`, answeredAt: base });
    assert.deepEqual(autoSendUsage(burst.autoSendHistory, [SENDER], { thread: 'next', receivedAt: base + 60_000 }, NOW.getTime(), DAY), { toRecipient: 1, inThread: 0 });
    assert.deepEqual(decide(acknowledgement(), burst, { autoSend: { ...context('next'), inbound: { ...context('next').inbound, receivedAt: base + 60_000 } } }).reasons, ['auto_send']);
    // A loop: each of their messages arrives two minutes after our answer to the one before.
    let loop = known();
    for (let turn = 0; turn < limit; turn++) {
      loop = recordSend(loop, new Date(base + turn * 4 * MINUTE + MINUTE), [SENDER], { automatic: true, thread: `l-${turn}`, answeredAt: base + turn * 4 * MINUTE });
    }
    const arrival = base + limit * 4 * MINUTE;
    assert.equal(autoSendUsage(loop.autoSendHistory, [SENDER], { thread: 'l-next', receivedAt: arrival }, NOW.getTime(), DAY).toRecipient, limit);
    assert.deepEqual(decide(acknowledgement(), loop, { autoSend: { ...context('l-next'), inbound: { ...context('l-next').inbound, receivedAt: arrival } } }).reasons, ['auto_reply_loop']);
  });

  it('the limit is per recipient: another contact still gets an automatic reply', () => {
    const state = afterAutomatic(replies(limit));
    assert.deepEqual(decide(acknowledgement(OTHER), state, { autoSend: context('t-other', OTHER) }).reasons, ['auto_send']);
  });

  it('sends a human approved do not count: approving is how a loop is ended', () => {
    let state = known();
    for (let index = 0; index < 10; index++) state = recordSend(state, at(-(index + 1) * MINUTE), [SENDER], { automatic: false });
    state = recordSend(state, at(-MINUTE), [SENDER]);
    assert.deepEqual(state.autoSendHistory, []);
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-1') }).reasons, ['auto_send']);
  });

  it('the window rolls: a day after the last automatic reply the contact is answered automatically again', () => {
    const state = afterAutomatic(replies(limit));
    const oldest = Math.min(...replies(limit).map((reply) => reply.offsetMs));
    const newest = Math.max(...replies(limit).map((reply) => reply.offsetMs));
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-1') }, at(oldest + DAY - 1)).reasons, ['auto_reply_loop']);
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-x') }, at(oldest + DAY)).reasons, ['auto_send'], 'the oldest has left the window');
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-0') }, at(newest + DAY)).reasons, ['auto_send']);
  });

  it('records dated after now (the clock moved back) count: fail closed', () => {
    const state = afterAutomatic([{ offsetMs: 5 * MINUTE, thread: 't-1' }]);
    assert.deepEqual(decide(acknowledgement(), state, { autoSend: context('t-1') }).reasons, ['auto_reply_loop']);
  });

  it('counting walks the history once and sees each recipient of a multi-recipient send', () => {
    let state = known();
    state = recordSend(state, at(-3 * MINUTE), [SENDER, OTHER], { automatic: true, thread: 'a' });
    state = recordSend(state, at(-2 * MINUTE), [OTHER], { automatic: true, thread: 'b' });
    assert.deepEqual(autoSendUsage(state.autoSendHistory, [SENDER, OTHER], { thread: 'b' }, NOW.getTime(), DAY), { toRecipient: 2, inThread: 1 });
    assert.deepEqual(autoSendUsage(state.autoSendHistory, ['x@else.example'], {}, NOW.getTime(), DAY), { toRecipient: 0, inThread: 0 });
  });

  it('only sends made before the answered message arrived count: those may have prompted it, later ones cannot have', () => {
    let state = known();
    state = recordSend(state, at(-3 * MINUTE), [SENDER], { automatic: true, thread: 'a' });
    state = recordSend(state, at(-2 * MINUTE), [SENDER], { automatic: true, thread: 'a' });
    const usage = (receivedAt: number) => autoSendUsage(state.autoSendHistory, [SENDER], { thread: 'a', receivedAt }, NOW.getTime(), DAY);
    assert.deepEqual(usage(at(-MINUTE).getTime()), { toRecipient: 2, inThread: 2 }, 'arrived after both');
    assert.deepEqual(usage(at(-2 * MINUTE).getTime()), { toRecipient: 1, inThread: 1 }, 'arrived with the second: only the first may have prompted it');
    assert.deepEqual(usage(at(-10 * MINUTE).getTime()), { toRecipient: 0, inThread: 0 }, 'already there before either was sent');
  });
});

describe('reply-loop limits: held, never dropped, never pausing the client', () => {
  it('a looping reply is held rather than hitting the hourly limit that would pause all sending', () => {
    let state = afterAutomatic([{ offsetMs: -MINUTE, thread: 't-1' }]);
    for (let index = 0; index < CFG.rateLimits.perHour; index++) state = recordSend(state, at(-30 * 1000), [`someone${index}@partner.com`]);
    const decision = decide(acknowledgement(), state, { autoSend: context('t-1') });
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['auto_reply_loop']);
    assert.equal(decision.pauseSending, undefined);
  });

  it('is listed beside the other holds, so the approver sees all of them', () => {
    const state = afterAutomatic([{ offsetMs: -MINUTE, thread: 't-1' }]);
    const decision = decide(acknowledgement(), state, { autoSend: context('t-1', SENDER, { injectionSignals: ['rule_change'] }) });
    assert.deepEqual(decision.reasons, ['injection_signal', 'auto_reply_loop']);
  });

  it('an approval of exactly this send covers it', () => {
    const state = afterAutomatic([{ offsetMs: -MINUTE, thread: 't-1' }]);
    const parsed = parseProposedAction(acknowledgement());
    assert.ok(parsed.ok);
    const approval = approvalOf(parsed.action);
    const decision = decide(acknowledgement(), state, { autoSend: context('t-1'), approval });
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['approved']);
  });

  it('dry run reports what it would have done', () => {
    const dry = config({ autoReply: { signature: 'Sam, Acme' }, dryRun: true });
    const state = afterAutomatic([{ offsetMs: -MINUTE, thread: 't-1' }]);
    const decision = evaluatePolicy(acknowledgement(), dry, state, NOW, { autoSend: context('t-1') });
    assert.deepEqual(decision.dryRun, { decision: 'needs_approval', reasons: ['auto_reply_loop'] });
  });

  it('the approver reads plain words, not the code', () => {
    const text = gateReasonText('auto_reply_loop');
    assert.notEqual(text, 'auto reply loop');
    assert.match(text, /automatic/i);
  });
});

describe('reply-loop history in the persisted policy state', () => {
  it('survives a round trip through the state file, threads and recipients kept', () => {
    const state = afterAutomatic([
      { offsetMs: -3 * MINUTE, thread: 't-1' },
      { offsetMs: -2 * MINUTE },
    ]);
    const parsed = parsePolicyState(JSON.parse(JSON.stringify(serialisePolicyState(state))));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.state.autoSendHistory, state.autoSendHistory);
    assert.deepEqual(decide(acknowledgement(), parsed.state, { autoSend: context('t-1') }).reasons, ['auto_reply_loop']);
  });

  it('a state file written before the limits existed reads as no automatic sends', () => {
    const parsed = parsePolicyState({ killed: false, paused: false, knownContacts: [SENDER], sendHistory: [{ at: NOW.getTime() - MINUTE, recipients: 1 }] });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.state.autoSendHistory, []);
  });

  it('entries older than a day are dropped when the next send is recorded', () => {
    let state = afterAutomatic([{ offsetMs: -DAY - MINUTE, thread: 'old' }]);
    state = recordSend(state, NOW, [SENDER], { automatic: true, thread: 'new' });
    assert.deepEqual(
      state.autoSendHistory.map((record) => record.thread),
      ['new'],
    );
  });
});

function approvalOf(action: unknown): ApprovalRecord {
  const created = createApproval({ id: 'ap-loop', actionKind: 'mail.send', arguments: action, policyReasons: ['auto_reply_loop'], now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const approved = approve(created.record, { by: 'admin@acme.com', via: 'orchestrator-api', now: NOW });
  assert.ok(approved.ok);
  return approved.record;
}
