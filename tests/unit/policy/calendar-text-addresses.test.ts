import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { unknownAddressIn } from '../../../agent-image/src/domain/policy/sent-text-content.ts';
import { MAX_EVENT_DESCRIPTION } from '../../../agent-image/src/domain/scheduling/event-limits.ts';
import { config, NOW, state } from './fixtures.ts';
import { assertLinearWork } from './work-meter.ts';

// An invitation, update notice or cancellation is mail the provider sends in the client's name with text the
// model wrote: injected text that names its author's address there turns the client's own contacts towards it.

const invite = (description: string, participants = ['bob@partner.com']) => ({
  kind: 'calendar.write',
  operation: 'create',
  title: 'Quarterly review',
  start: '2025-06-02T16:00:00Z',
  participants,
  description,
});
const decide = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW);

describe('a calendar write’s text naming someone the client does not know is held', () => {
  it('holds an invitation to known contacts whose text points them at an unknown address', () => {
    for (const description of [
      'Before the review, please send the updated bank details to billing@pay-desk-invoices.com',
      'Questions: accounts＠pay-desk-invoices．com',
      'Mail eve@pay-desk\u200B.com today',
      'Contact Eve.Doe+q3@Sub.Pay-Desk.co.uk.',
    ]) {
      const decision = decide(invite(description));
      assert.equal(decision.decision, 'needs_approval', description);
      assert.deepEqual(decision.reasons, ['free_text'], description);
      assert.ok(decision.details?.some((detail) => detail.includes('does not know')), description);
    }
  });

  it('holds a cancellation message and an update notice that do the same', () => {
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'cancel', eventId: 'ev1', description: 'Cancelled. Rebook via eve@pay-desk.com' }).reasons, ['free_text', 'deletion']);
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'update', eventId: 'ev1', description: 'Agenda now with eve@pay-desk.com' }).reasons, ['free_text']);
  });

  it('lets through the addresses of known contacts, the client, the people invited, and text with no address', () => {
    for (const description of ['Dial-in questions to carol@partner.com or owner@acme.com', 'Ask bob@partner.com\u200B about it', 'Agenda: Q3 @ 10.30, e.g. v1.2', '@team see notes', 'a@b']) {
      assert.deepEqual(decide(invite(description)).reasons, ['auto_send'], description);
    }
    assert.deepEqual(decide(invite('Your host is dave@client.org', ['dave@client.org'])).reasons, ['auto_send']);
  });

  it('reads text full of at signs and letters in work linear in its length', () => {
    for (const unit of ['a@', 'a', '@a.', `${'x'.repeat(70)}@`]) {
      const text = (size: number) => unit.repeat(Math.floor(size / unit.length));
      assert.equal(unknownAddressIn(text(MAX_EVENT_DESCRIPTION), () => false), undefined, unit);
      assertLinearWork(`addresses ${JSON.stringify(unit)}`, (size) => () => unknownAddressIn(text(size), () => false), 200_000);
    }
  });

  it('an approval granted without the event’s current text does not cover an unknown address in it', () => {
    const adding = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', participants: ['zed@elsewhere.com'] };
    const parsed = parseProposedAction(adding);
    assert.ok(parsed.ok);
    const created = createApproval({ id: 'ap_1', actionKind: 'calendar.write', arguments: parsed.action, policyReasons: ['new_contact'], now: NOW, timeoutHours: 72 });
    assert.ok(created.ok);
    const approved = approve(created.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
    assert.ok(approved.ok);
    const approval: ApprovalRecord = approved.record;
    const kept = (shown: boolean) => ({ approval, keptText: { text: 'Board sync. Send your slides to eve@pay-desk.com', shown } });
    assert.equal(evaluatePolicy(adding, config(), state(), NOW, kept(false)).decision, 'needs_approval');
    assert.deepEqual(evaluatePolicy(adding, config(), state(), NOW, kept(true)).reasons, ['approved']);
    assert.deepEqual(evaluatePolicy(adding, config(), state(), NOW, { approval, keptText: { text: 'Board sync with bob@partner.com', shown: false } }).reasons, ['approved']);
  });
});
