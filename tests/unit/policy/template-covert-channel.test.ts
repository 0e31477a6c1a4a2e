import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import { compileTemplates, renderTemplateReply } from '../../../agent-image/src/domain/auto-reply/render-reply.ts';
import type { AutoSendContext, TemplateFacts } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { config, NOW, state } from './fixtures.ts';

const SENDER = 'bob@partner.com';
const templatesOnly = (): ClientConfig => config({ autoReply: { signature: 'Sam, Acme' } });
const FACTS: TemplateFacts = {
  originalSubject: 'Meeting next week?',
  nameSources: ['Bob Builder'],
  freeSlots: [{ start: '2025-06-03T14:00:00Z', end: '2025-06-03T14:30:00Z' }],
};
const CHOICE = { type: 'scheduling_confirmation', templateId: 'scheduling-confirmation', slots: { correspondentName: 'Bob', proposedTime: '2025-06-03T14:00:00Z' } };
const CONTEXT: AutoSendContext = { inbound: { messageId: 'm-1', senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] }, templateReply: { choice: CHOICE, facts: FACTS } };

function rendered(cfg: ClientConfig): { subject: string; body: string } {
  const result = renderTemplateReply(CHOICE, compileTemplates(cfg.autoReply), { language: 'en', timeZone: cfg.timezone, signature: cfg.autoReply.signature, ...FACTS, now: NOW });
  if (!result.ok) throw new Error(result.issues.join('; '));
  return result.reply;
}

function decide(text: { subject?: string; body?: string }) {
  const cfg = templatesOnly();
  const reply = rendered(cfg);
  const action = { kind: 'mail.send', to: [SENDER], subject: text.subject ?? reply.subject, body: text.body ?? reply.body, emailType: 'scheduling_confirmation', inReplyTo: 'm-1' };
  return evaluatePolicy(action, cfg, state(), NOW, { autoSend: CONTEXT });
}

/** A secret written as invisible white space, one character per bit. */
function hidden(secret: string): string {
  return [...secret].map((char) => char.charCodeAt(0).toString(2).padStart(8, '0').replaceAll('0', '\u2000').replaceAll('1', '\u2001')).join('');
}

describe('a template reply carries nothing but the template, white space included', () => {
  const { body, subject } = rendered(templatesOnly());

  it('holds a reply whose body hides data in white space at its ends or at the ends of its lines', () => {
    for (const padded of [
      `${body}${hidden('payroll login: hunter2')}`,
      `${hidden('payroll login: hunter2')}${body}`,
      body.split('\n').map((line, index) => `${line}${' \t'.repeat(index * 20)}`).join('\n'),
      `${body}\n\n\n\n\n\n\n\n`,
      body.replace('\n', '\r\n'),
    ]) {
      const decision = decide({ body: padded });
      assert.equal(decision.decision, 'needs_approval', JSON.stringify(padded.slice(-40)));
      assert.deepEqual(decision.reasons, ['free_text']);
    }
  });

  it('holds a reply whose subject hides data in its white space', () => {
    for (const padded of [subject.replace(' ', hidden('key')), `${subject}${' '.repeat(64)}`, `\t\t ${subject}`, subject.replace(' ', '  ')]) {
      assert.deepEqual(decide({ subject: padded }).reasons, ['free_text'], JSON.stringify(padded));
    }
  });

  it('still sends the reply a provider gave back: CRLF line ends, a line break added at the end, a folded subject', () => {
    for (const text of [
      { body },
      { body: body.replaceAll('\n', '\r\n') },
      { body: `${body}\n` },
      { body: `${body.replaceAll('\n', '\r\n')}\r\n` },
      { subject: subject.replace(' ', '\r\n ') },
    ]) {
      assert.deepEqual(decide(text).reasons, ['auto_send'], JSON.stringify(text));
    }
  });

  it('never auto-sends a reply with white space inserted anywhere', () => {
    const space = fc.constantFrom(' ', '\t', '\r', '\u00A0', '\u2000', '\u2028', '\u3000', '\uFEFF', '\u200B');
    fc.assert(
      fc.property(fc.nat({ max: body.length }), fc.array(space, { minLength: 1, maxLength: 8 }), (at, inserted) => {
        const changed = `${body.slice(0, at)}${inserted.join('')}${body.slice(at)}`;
        assert.equal(decide({ body: changed }).decision, 'needs_approval', JSON.stringify(changed));
      }),
      { numRuns: 100 },
    );
  });
});
