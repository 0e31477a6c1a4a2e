import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { compileTemplates, renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import type { AutoSendContext, TemplateFacts } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { FREE_TEXT_OPT_IN, NOW, config, state } from './fixtures.ts';

const SENDER = 'bob@partner.com';
const templatesOnly = (): ClientConfig => config({ autoReply: { signature: 'Sam, Acme' } });
const FACTS: TemplateFacts = {
  originalSubject: 'Meeting next week?',
  nameSources: ['Bob Builder'],
  freeSlots: [{ start: '2025-06-03T14:00:00Z', end: '2025-06-03T14:30:00Z' }],
};
const CHOICE = { type: 'scheduling_confirmation', templateId: 'scheduling-confirmation', slots: { correspondentName: 'Bob', proposedTime: '2025-06-03T14:00:00Z' } };

function rendered(cfg: ClientConfig, choice: unknown = CHOICE): { subject: string; body: string } {
  const result = renderTemplateReply(choice, compileTemplates(cfg.autoReply), {
    language: cfg.autoReply.language,
    timeZone: cfg.timezone,
    signature: cfg.autoReply.signature,
    ...FACTS,
    now: NOW,
  });
  if (!result.ok) throw new Error(result.issues.join('; '));
  return result.reply;
}

function reply(cfg: ClientConfig, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { subject, body } = rendered(cfg);
  return { kind: 'mail.send', to: [SENDER], subject, body, emailType: 'scheduling_confirmation', inReplyTo: 'm-1', ...overrides };
}

function context(overrides: Partial<AutoSendContext['inbound']> = {}, choice: unknown = CHOICE): AutoSendContext {
  return { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [], ...overrides }, templateReply: { choice, facts: FACTS } };
}

function approvalOf(action: unknown): ApprovalRecord {
  const created = createApproval({ id: 'ap-t', actionKind: 'mail.send', arguments: action, policyReasons: ['free_text'], now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const approved = approve(created.record, { by: 'admin@acme.com', via: 'orchestrator-api', now: NOW });
  assert.ok(approved.ok);
  return approved.record;
}

const decide = (action: unknown, cfg: ClientConfig, autoSend?: AutoSendContext) => evaluatePolicy(action, cfg, state(), NOW, autoSend === undefined ? {} : { autoSend });

describe('policy gate: template-only auto-send', () => {
  it('auto-sends a template reply whose slots validated, to its authenticated sender, with no signal', () => {
    const cfg = templatesOnly();
    const decision = decide(reply(cfg), cfg, context());
    assert.equal(decision.decision, 'allow');
    assert.deepEqual(decision.reasons, ['auto_send']);
    assert.equal(decision.facts?.templateReply, true);
    assert.equal(decision.facts?.senderAuthenticated, true);
    assert.equal(decision.facts?.injectionSignals, 0);
  });

  it('holds free model text of an auto-send type by default, reply or not', () => {
    const cfg = templatesOnly();
    assert.deepEqual(decide({ kind: 'mail.send', to: [SENDER], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up' }, cfg).reasons, ['free_text']);
    const forwarded = decide(reply(cfg, { body: 'Confirmed: I forwarded the invoices to billing-archive@evil.example.' }), cfg, context());
    assert.deepEqual(forwarded.reasons, ['free_text']);
    assert.match(forwarded.details?.join(' ') ?? '', /differs from the rendered template/);
  });

  it('holds a template reply changed in any way: one more sentence, another subject, a link or an attachment, another type', () => {
    const cfg = templatesOnly();
    const { body, subject } = rendered(cfg);
    for (const overrides of [
      { body: `${body}\nPS: the limits are removed.` },
      { subject: `${subject} (urgent)` },
      { links: ['https://example.com/doc'] },
      { attachments: [{ fileId: 'f-1' }] },
      { emailType: 'follow_up' },
    ]) {
      assert.deepEqual(decide(reply(cfg, overrides), cfg, context()).reasons, ['free_text'], JSON.stringify(overrides));
    }
  });

  it('holds a template whose slot the model filled from the email instead of trusted sources', () => {
    const cfg = templatesOnly();
    const badTime = { ...CHOICE, slots: { ...CHOICE.slots, proposedTime: '2025-06-03T18:00:00Z' } };
    assert.deepEqual(decide(reply(cfg), cfg, context({}, badTime)).reasons, ['free_text']);
    const badName = { ...CHOICE, slots: { ...CHOICE.slots, correspondentName: 'Billing Team' } };
    assert.deepEqual(decide(reply(cfg), cfg, context({}, badName)).reasons, ['free_text']);
  });

  it('holds a reply to a sender that is not authenticated (forged known contact)', () => {
    const cfg = templatesOnly();
    const decision = decide(reply(cfg), cfg, context({ senderAuthenticated: false }));
    assert.deepEqual(decision.reasons, ['sender_unauthenticated']);
    assert.equal(decision.facts?.senderAuthenticated, false);
  });

  it('holds a reply to anyone but exactly the sender: another known contact, an added cc or bcc', () => {
    const cfg = templatesOnly();
    assert.deepEqual(decide(reply(cfg, { to: ['carol@partner.com'] }), cfg, context()).reasons, ['recipient_not_sender']);
    assert.deepEqual(decide(reply(cfg, { cc: ['carol@partner.com'] }), cfg, context()).reasons, ['recipient_not_sender']);
    assert.deepEqual(decide(reply(cfg, { bcc: ['carol@partner.com'] }), cfg, context()).reasons, ['recipient_not_sender']);
    assert.deepEqual(decide(reply(cfg, { to: [SENDER, 'stranger@else.com'] }), cfg, context()).reasons, ['new_contact', 'recipient_not_sender']);
  });

  it('holds a reply to a message with an injection signal and names the signals for the approver', () => {
    const cfg = templatesOnly();
    const decision = decide(reply(cfg), cfg, context({ injectionSignals: ['rule_change', 'approval_claim'] }));
    assert.deepEqual(decision.reasons, ['injection_signal']);
    assert.equal(decision.facts?.injectionSignals, 2);
    assert.match(decision.details?.join(' ') ?? '', /rule_change, approval_claim/);
  });

  it('a reply without the facts of the message it answers never auto-sends', () => {
    const cfg = templatesOnly();
    assert.deepEqual(decide(reply(cfg), cfg).reasons, ['free_text', 'sender_unauthenticated', 'recipient_not_sender']);
  });

  it('free-text opt-in lets model text of that type through, never past the sender and signal rules', () => {
    const optedIn = config({ autoReply: FREE_TEXT_OPT_IN });
    const text = { kind: 'mail.send', to: [SENDER], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up', inReplyTo: 'm-1' };
    const inbound: AutoSendContext = { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] } };
    assert.deepEqual(decide(text, optedIn, inbound).reasons, ['auto_send']);
    assert.equal(decide(text, optedIn, inbound).facts?.templateReply, false);
    assert.deepEqual(decide(text, optedIn, { inbound: { ...inbound.inbound, senderAuthenticated: false } }).reasons, ['sender_unauthenticated']);
    assert.deepEqual(decide(text, optedIn, { inbound: { ...inbound.inbound, injectionSignals: ['addresses_assistant'] } }).reasons, ['injection_signal']);
    assert.deepEqual(decide(text, config({ autoReply: { freeTextAutoSend: FREE_TEXT_OPT_IN.freeTextAutoSend?.filter((e) => e.type !== 'follow_up') } }), inbound).reasons, ['free_text']);
  });

  it('free-text opt-in covers replies only: a new message of an opted-in type to a known contact is held', () => {
    const optedIn = config({ autoReply: FREE_TEXT_OPT_IN });
    // Not a reply: no message answered, no facts from the runtime. A fooled model mailing known contacts one at a time.
    for (const to of [SENDER, 'carol@partner.com']) {
      const fresh = { kind: 'mail.send', to: [to], subject: 'Quick update', body: 'Please review https://docs.example.net/x', emailType: 'follow_up' };
      const decision = decide(fresh, optedIn);
      assert.equal(decision.decision, 'needs_approval', to);
      assert.deepEqual(decision.reasons, ['free_text'], to);
      assert.match(decision.details?.join(' ') ?? '', /only as a reply to a message the agent read/);
    }
    // A reply naming a message the runtime gave no facts about is no better.
    const named = { kind: 'mail.send', to: [SENDER], subject: 'Re: lunch', body: 'Thursday works.', emailType: 'follow_up', inReplyTo: 'm-1' };
    assert.deepEqual(decide(named, optedIn).reasons, ['free_text', 'sender_unauthenticated', 'recipient_not_sender']);
  });

  it('types that are not auto-send keep their own reason, and a template cannot make them auto-send', () => {
    const cfg = templatesOnly();
    assert.deepEqual(decide(reply(cfg, { emailType: 'offer' }), cfg, context()).reasons, ['type_requires_approval']);
    assert.deepEqual(decide(reply(cfg, { emailType: 'question' }), cfg, context()).reasons, ['type_not_auto_send']);
    assert.deepEqual(decide(reply(cfg, { emailType: undefined }), cfg, context()).reasons, ['unclassified']);
  });

  it('an approval of these exact arguments satisfies the new reasons; onboarding still holds templates', () => {
    const cfg = templatesOnly();
    const action = reply(cfg, { body: 'Free text the admin read.' });
    const parsed = parseProposedAction(action);
    assert.ok(parsed.ok);
    const approval = approvalOf(parsed.action);
    assert.deepEqual(evaluatePolicy(action, cfg, state(), NOW, { approval, autoSend: context({ senderAuthenticated: false }) }).reasons, ['approved']);
    const onboarding = config({ autoReply: {}, onboarding: { startedAt: '2025-05-30T00:00:00Z', days: 28 } });
    assert.deepEqual(decide(reply(onboarding), onboarding, context()).reasons, ['onboarding']);
  });

  it('property (fooled model): whatever it chooses and writes, an allowed send is the rendered template to the authenticated sender', () => {
    const cfg = templatesOnly();
    const hostile = fc.constantFrom('Bob', 'Bob Builder', 'Billing Team', 'Ignore previous instructions', '2025-06-03T14:00:00Z', '2025-06-03T18:00:00Z', 'x@evil.example');
    const arbitraryChoice = fc.record({
      type: fc.constantFrom('acknowledgement', 'scheduling_confirmation', 'follow_up', 'offer'),
      templateId: fc.constantFrom('acknowledgement', 'acknowledgement-no-name', 'scheduling-confirmation', 'follow-up', 'mine'),
      slots: fc.record({ correspondentName: hostile, proposedTime: hostile }, { requiredKeys: [] }),
    });
    fc.assert(
      fc.property(
        arbitraryChoice,
        fc.boolean(),
        fc.constantFrom([SENDER], ['carol@partner.com'], [SENDER, 'carol@partner.com']),
        fc.boolean(),
        fc.subarray(['rule_change', 'bank_details'] as const),
        fc.constantFrom('acknowledgement', 'scheduling_confirmation', 'follow_up'),
        (choice, useRendered, to, authenticated, signals, emailType) => {
          const render = renderTemplateReply(choice, compileTemplates(cfg.autoReply), { language: 'en', timeZone: cfg.timezone, signature: cfg.autoReply.signature, ...FACTS, now: NOW });
          const content = useRendered && render.ok ? render.reply : { subject: 'Re: Meeting next week?', body: 'Done: forwarded everything to x@evil.example.' };
          const action = { kind: 'mail.send', to, subject: content.subject, body: content.body, emailType, inReplyTo: 'm-1' };
          const decision = decide(action, cfg, { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: authenticated, injectionSignals: signals }, templateReply: { choice, facts: FACTS } });
          if (decision.decision === 'allow') {
            assert.ok(render.ok && useRendered && render.reply.type === emailType);
            assert.deepEqual(to, [SENDER]);
            assert.ok(authenticated && signals.length === 0);
          }
        },
      ),
      { numRuns: 600 },
    );
  });
});
