import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPLY_LANGUAGES, type ClientConfig, type ReplyLanguage } from '@agent-fleet/kernel/client-config';
import { defaultTemplateId } from '../../../agent-image/src/domain/auto-reply/default-templates.ts';
import { compileTemplates, renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import type { TemplateFacts } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { slotContentIssues } from '../../../agent-image/src/domain/policy/template-backstop.ts';
import { NOW, config, state } from './fixtures.ts';

const SENDER = 'bob@partner.com';
const SLOT = { start: '2025-06-03T14:00:00Z', end: '2025-06-03T14:30:00Z' };
const FACTS: TemplateFacts = { originalSubject: 'Meeting next week?', nameSources: ['Bob Builder', 'Bob Builder'], freeSlots: [SLOT] };
const TYPES = ['acknowledgement', 'scheduling_confirmation', 'follow_up'] as const;
const noFreeText = (autoReply: Record<string, unknown>): ClientConfig => config({ autoReply: { freeTextAutoSend: [], ...autoReply } });

function choiceFor(type: (typeof TYPES)[number], templateId: string, named: boolean) {
  return { type, templateId, slots: { ...(named ? { correspondentName: 'Bob' } : {}), ...(type === 'scheduling_confirmation' ? { proposedTime: SLOT.start } : {}) } };
}

/** The gate's decision on sending exactly the reply it renders from this choice and these facts. */
function decideRendered(cfg: ClientConfig, choice: ReturnType<typeof choiceFor>, facts: TemplateFacts = FACTS) {
  const result = renderTemplateReply(choice, compileTemplates(cfg.autoReply), { language: cfg.autoReply.language, timeZone: cfg.timezone, signature: cfg.autoReply.signature, ...facts, now: NOW });
  if (!result.ok) throw new Error(result.issues.join('; '));
  const action = { kind: 'mail.send', to: [SENDER], subject: result.reply.subject, body: result.reply.body, emailType: choice.type, inReplyTo: 'm-1' };
  return evaluatePolicy(action, cfg, state(), NOW, { autoSend: { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] }, templateReply: { choice, facts } } });
}

describe('the gate checks a template reply’s own text behind the slot validators', () => {
  it('still auto-sends every built-in template, in every language, named and nameless', () => {
    for (const language of REPLY_LANGUAGES as readonly ReplyLanguage[]) {
      const cfg = noFreeText({ language, signature: 'Sam Smith\nAcme Ltd' });
      for (const type of TYPES) {
        for (const named of [true, false]) {
          const decision = decideRendered(cfg, choiceFor(type, defaultTemplateId(type, named), named));
          assert.deepEqual(decision.reasons, ['auto_send'], `${language} ${type} ${named} ${JSON.stringify(decision.details)}`);
        }
      }
    }
  });

  it('still auto-sends a client’s template carrying its own links, address and a slot inside its own link', () => {
    const cfg = noFreeText({
      signature: 'Sam Smith, Acme Ltd\nsam@acme.com | https://www.acme.com/contact | acme.com',
      templates: [
        {
          id: 'ack-with-links',
          type: 'acknowledgement',
          body: 'Hi {{correspondentName}},\n\nThanks for "{{originalSubject}}". Track it at https://help.acme.com/track?name={{correspondentName}} or write to help@acme.com.\n\n{{signature}}',
        },
      ],
    });
    assert.deepEqual(decideRendered(cfg, choiceFor('acknowledgement', 'ack-with-links', true)).reasons, ['auto_send']);
  });

  it('holds a reply whose subject became a link when cut to length', () => {
    // Nothing in the whole subject is a host (`.cozzz…` is no suffix); cut mid-word it ends in `pay-here.co`.
    const head = 'Question about the invoice for last month ok';
    const word = `${'x'.repeat(20)}.${'x'.repeat(99 - head.length - 1 - 'pay-here.co'.length - 21)}pay-here.co`;
    const facts = { ...FACTS, originalSubject: `${head} ${word}mpanyzz` };
    const cut = `${head} ${word}…`;
    const decision = evaluatePolicy(
      { kind: 'mail.send', to: [SENDER], subject: `Re: ${cut}`, body: `Hello,\n\nThank you for your message about "${cut}". I have received it and will get back to you shortly.\n\nKind regards,`, emailType: 'acknowledgement', inReplyTo: 'm-1' },
      noFreeText({}),
      state(),
      NOW,
      { autoSend: { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] }, templateReply: { choice: choiceFor('acknowledgement', 'acknowledgement-no-name', false), facts } } },
    );
    assert.equal(decision.decision, 'needs_approval');
    assert.ok(decision.reasons.includes('free_text'));
    assert.match(JSON.stringify(decision.details), /link/);
  });
});

describe('slotContentIssues', () => {
  const own = { templateBody: 'Hello {{correspondentName}},\n\nAbout "{{originalSubject}}": noted.\n\n{{signature}}', signature: 'Sam\nhttps://acme.com/x sam@acme.com' };
  const body = (name: string, subject: string) => `Hello ${name},\n\nAbout "${subject}": noted.\n\nSam\nhttps://acme.com/x sam@acme.com`;

  it('finds nothing in a reply whose links and addresses are the template’s own', () => {
    assert.deepEqual(slotContentIssues({ subject: 'Re: Lunch', body: body('Bob', 'Lunch') }, own), []);
  });

  it('finds a link, an address or a hidden character that only a slot could have put there', () => {
    for (const [subject, expected] of [
      ['pay-here.com', /link/],
      ['see пример.рф now', /link/],
      ['http://10.0.0.1', /link/],
      ['<a href=x>', /link/],
      ['write to eve＠evil.com', /email address/],
      ['Lunch\u200b', /hidden/],
      ['Lunch\u{E0041}', /hidden/],
    ] as const) {
      assert.match(slotContentIssues({ subject: `Re: ${subject}`, body: body('Bob', subject) }, own).join('; '), expected, subject);
      assert.match(slotContentIssues({ subject: 'Re: Lunch', body: body(subject, 'Lunch') }, own).join('; '), expected, subject);
    }
  });
});
