import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FREE_TEXT_AUTO_SEND_RISK, REPLY_LANGUAGES, TEMPLATE_TYPES, parseClientConfig, templatePlaceholders } from '@agent-fleet/kernel/client-config';
import { defaultTemplateId, defaultTemplates } from '../../../agent-image/src/domain/auto-reply/default-templates.ts';
import { compileTemplates, renderTemplateReply, type TemplateReplyContext } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import { sameTemplateBody } from '../../../agent-image/src/domain/policy/template-text.ts';

const CONTEXT: TemplateReplyContext = {
  language: 'en',
  timeZone: 'Europe/London',
  signature: 'Sam Owner\nAcme Ltd',
  originalSubject: 'Re: Meeting next week?',
  nameSources: ['Dana Scully', null],
  freeSlots: [{ start: '2025-06-03T14:00:00Z', end: '2025-06-03T14:30:00Z' }],
  now: new Date('2025-06-02T10:00:00Z'),
};
const templates = compileTemplates({ language: 'en', templates: [] });

describe('template replies', () => {
  it('renders a scheduling confirmation when every slot validates', () => {
    const result = renderTemplateReply(
      { type: 'scheduling_confirmation', templateId: 'scheduling-confirmation', slots: { correspondentName: 'Dana', proposedTime: '2025-06-03T14:00:00Z' } },
      templates,
      CONTEXT,
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.reply.subject, 'Re: Meeting next week?');
    assert.equal(
      result.reply.body,
      'Hello Dana,\n\nThank you for your message about "Meeting next week?". I confirm Tuesday, 3 June 2025 at 15:00 BST and look forward to it.\n\nKind regards,\nSam Owner\nAcme Ltd',
    );
  });

  it('renders the nameless template without a name and leaves out an empty signature line', () => {
    const result = renderTemplateReply({ type: 'acknowledgement', templateId: 'acknowledgement-no-name', slots: {} }, templates, { ...CONTEXT, signature: '' });
    assert.ok(result.ok);
    assert.equal(result.reply.body, 'Hello,\n\nThank you for your message about "Meeting next week?". I have received it and will get back to you shortly.\n\nKind regards,');
  });

  it('refuses, listing every reason, when a slot does not validate', () => {
    const result = renderTemplateReply(
      { type: 'scheduling_confirmation', templateId: 'scheduling-confirmation', slots: { correspondentName: 'Mallory', proposedTime: '2025-06-03T18:00:00Z' } },
      templates,
      CONTEXT,
    );
    assert.equal(result.ok, false);
    assert.equal(result.ok ? 0 : result.issues.length, 2);
  });

  it('refuses what the schema does not allow: free text, recipients, unknown slots, a wrong type or template', () => {
    for (const choice of [
      { type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Dana' }, body: 'Wire the money' },
      { type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Dana', to: 'x@evil.example' } },
      { type: 'acknowledgement', templateId: 'acknowledgement', slots: { originalSubject: 'Forward the invoices' } },
      { type: 'offer', templateId: 'acknowledgement', slots: {} },
      { type: 'follow_up', templateId: 'acknowledgement', slots: { correspondentName: 'Dana' } },
      { type: 'acknowledgement', templateId: 'no-such-template', slots: {} },
      { type: 'acknowledgement', templateId: 'acknowledgement-no-name', slots: { proposedTime: '2025-06-03T14:00:00Z' } },
      { type: 'acknowledgement', templateId: 'acknowledgement', slots: {} },
      'Sure, I forwarded them.',
      null,
    ]) {
      assert.equal(renderTemplateReply(choice, templates, CONTEXT).ok, false, JSON.stringify(choice));
    }
  });

  it('refuses any template when the original subject cannot be quoted (a link in it)', () => {
    const result = renderTemplateReply({ type: 'acknowledgement', templateId: 'acknowledgement-no-name', slots: {} }, templates, { ...CONTEXT, originalSubject: 'Pay at https://evil.example/pay' });
    assert.deepEqual(result, { ok: false, issues: ['originalSubject holds a link'] });
  });

  it('uses the client’s own templates, which override a built-in one by id', () => {
    const own = compileTemplates({
      language: 'en',
      templates: [{ id: 'acknowledgement', type: 'acknowledgement', body: 'Hi {{correspondentName}}, got it ({{originalSubject}}).\n{{signature}}' }],
    });
    const result = renderTemplateReply({ type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Dana Scully' } }, own, CONTEXT);
    assert.ok(result.ok);
    assert.equal(result.reply.body, 'Hi Dana Scully, got it (Meeting next week?).\nSam Owner\nAcme Ltd');
    assert.ok(own.has('follow-up'), 'the other built-in templates remain');
  });

  it('has built-in templates for every language and type, with and without a name, using only known slots', () => {
    for (const language of REPLY_LANGUAGES) {
      const set = defaultTemplates(language);
      assert.equal(set.length, TEMPLATE_TYPES.length * 2);
      for (const type of TEMPLATE_TYPES) {
        const named = set.find((template) => template.id === defaultTemplateId(type, true));
        const nameless = set.find((template) => template.id === defaultTemplateId(type, false));
        assert.ok(templatePlaceholders(named?.body ?? '').includes('correspondentName'), `${language} ${type}`);
        assert.ok(!templatePlaceholders(nameless?.body ?? '').includes('correspondentName'), `${language} ${type}`);
        assert.equal(templatePlaceholders(named?.body ?? '').includes('proposedTime'), type === 'scheduling_confirmation');
      }
      const result = renderTemplateReply(
        { type: 'follow_up', templateId: 'follow-up', slots: { correspondentName: 'Dana' } },
        compileTemplates({ language, templates: [] }),
        { ...CONTEXT, language },
      );
      assert.ok(result.ok && !result.reply.body.includes('{{'), language);
    }
  });

  it('property: a rendered reply holds nothing the model proposed except a validated name', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.constantFrom('acknowledgement', 'follow-up'), (name, id) => {
        const result = renderTemplateReply({ type: id === 'follow-up' ? 'follow_up' : 'acknowledgement', templateId: id, slots: { correspondentName: name } }, templates, CONTEXT);
        if (result.ok) assert.ok(['Dana', 'Dana Scully'].some((candidate) => result.reply.body.startsWith(`Hello ${candidate},`)));
      }),
      { numRuns: 300 },
    );
  });

  it('the gate compares a sent reply with its rendering allowing only what a provider round trip does', () => {
    assert.ok(sameTemplateBody('Hello,\nThanks.', 'Hello,\r\nThanks.\r\n'));
    assert.ok(!sameTemplateBody('Hello,\nThanks.', 'Hello,\nThanks. Also wire $5k.'));
  });
});

describe('client config: autoReply', () => {
  const base = { client: 'acme' };

  it('defaults to templates only, in English, with no free-text opt-in', () => {
    const result = parseClientConfig(base);
    assert.ok(result.ok);
    assert.deepEqual(result.config.autoReply, { language: 'en', signature: '', templates: [], freeTextAutoSend: [] });
  });

  it('opts a type in to free text only with the risk restated word for word, for an auto-send type', () => {
    const entry = { type: 'follow_up', acceptedRisk: FREE_TEXT_AUTO_SEND_RISK, acceptedBy: 'boss@acme.example', acceptedAt: '2025-06-01T00:00:00Z' };
    assert.ok(parseClientConfig({ ...base, autoReply: { freeTextAutoSend: [entry] } }).ok);
    assert.equal(parseClientConfig({ ...base, autoReply: { freeTextAutoSend: [{ ...entry, acceptedRisk: 'yes' }] } }).ok, false);
    assert.equal(parseClientConfig({ ...base, autoReply: { freeTextAutoSend: [{ ...entry, acceptedAt: undefined }] } }).ok, false);
    const notAutoSend = parseClientConfig({ ...base, autoSendTypes: ['acknowledgement'], autoReply: { freeTextAutoSend: [entry] } });
    assert.ok(!notAutoSend.ok && notAutoSend.issues.some((issue) => issue.startsWith('autoReply.freeTextAutoSend.0.type')));
  });

  it('refuses templates with unknown placeholders, stray braces, control characters or duplicate ids', () => {
    const template = (body: string, id = 'mine') => ({ ...base, autoReply: { templates: [{ id, type: 'acknowledgement', body }] } });
    assert.ok(parseClientConfig(template('Hi {{correspondentName}}, thanks. {{signature}}')).ok);
    for (const body of ['Hi {{recipient}}', 'Hi {name}', 'Hi {{correspondentName}', 'Hi\u0007', 'Hi \u202e']) {
      assert.equal(parseClientConfig(template(body)).ok, false, body);
    }
    assert.equal(parseClientConfig({ ...base, autoReply: { templates: [template('a').autoReply.templates[0], template('b').autoReply.templates[0]] } }).ok, false);
    assert.equal(parseClientConfig(template('Hi', 'Bad Id')).ok, false);
  });
});
