import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy, type EvaluateOptions } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { config, NOW, state } from './fixtures.ts';

// The text a calendar change sends that the gate must see: a cancel's message (Graph mails it to every
// attendee as the cancellation's comment) and, for an update that adds people, the event's own text,
// which their invitations carry whoever wrote it.

const cancel = (description?: string) => ({ kind: 'calendar.write', operation: 'cancel', eventId: 'ev1', ...(description === undefined ? {} : { description }) });
const adding = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', participants: ['bob@partner.com'] };
const reschedule = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', start: '2025-06-03T15:00:00+02:00' };
const PHISHING = 'Moved: join at https://acme-notes-login.com/meet';

function approvalOf(args: Record<string, unknown>, reasons: string[]): ApprovalRecord {
  const parsed = parseProposedAction(args);
  assert.ok(parsed.ok);
  const created = createApproval({ id: 'ap_1', actionKind: parsed.action.kind, arguments: parsed.action, policyReasons: reasons, now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const approved = approve(created.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
  assert.ok(approved.ok);
  return approved.record;
}

const kept = (text: string, shown = false): EvaluateOptions => ({ keptText: { text, shown } });

describe('a cancel’s message is checked for links like any text a calendar write sends', () => {
  it('holds a cancel whose message carries a link, or a shortened one, beside the deletion', () => {
    const linked = evaluatePolicy(cancel(PHISHING), config(), state(), NOW);
    assert.equal(linked.decision, 'needs_approval');
    assert.deepEqual(linked.reasons, ['free_text', 'deletion']);
    assert.ok(linked.details?.some((detail) => detail.includes('cancellation message')));
    assert.deepEqual(evaluatePolicy(cancel('Sorry: https://bit.ly/sUf7tOJ'), config(), state(), NOW).reasons, ['url_shortener', 'deletion']);
  });

  it('finds a link far into a long message, past what a preview shows', () => {
    const long = `${'We are sorry to call this off. '.repeat(50)}Rebook at acme-notes-login.com/slot`;
    assert.ok(long.indexOf('acme-notes-login') > 1000);
    assert.deepEqual(evaluatePolicy(cancel(long), config(), state(), NOW).reasons, ['free_text', 'deletion']);
  });

  it('leaves a cancel with no message, or a plain one, a deletion only', () => {
    assert.deepEqual(evaluatePolicy(cancel(), config(), state(), NOW).reasons, ['deletion']);
    assert.deepEqual(evaluatePolicy(cancel(''), config(), state(), NOW).reasons, ['deletion']);
    assert.deepEqual(evaluatePolicy(cancel('Sorry, something came up. Questions to bob@partner.com.'), config(), state(), NOW).reasons, ['deletion']);
  });

  it('an approval granted for the cancel with its message runs it', () => {
    const args = cancel(PHISHING);
    const approval = approvalOf(args, ['free_text', 'deletion']);
    assert.deepEqual(evaluatePolicy(args, config(), state(), NOW, { approval }).reasons, ['approved']);
  });
});

describe('an update that adds people is decided on the event text it sends them', () => {
  it('holds it when the event’s current text carries a link, or a shortened one', () => {
    const linked = evaluatePolicy(adding, config(), state(), NOW, kept(`Board sync\n\n${PHISHING}`));
    assert.equal(linked.decision, 'needs_approval');
    assert.deepEqual(linked.reasons, ['free_text']);
    assert.ok(linked.details?.some((detail) => detail.includes('current text')));
    assert.deepEqual(evaluatePolicy(adding, config(), state(), NOW, kept('Board sync\n\nhttps://bit.ly/sUf7tOJ')).reasons, ['url_shortener']);
  });

  it('lets it run when the current text is plain', () => {
    assert.deepEqual(evaluatePolicy(adding, config(), state(), NOW, kept('Board sync\nRoom 4.12\nAgenda: budget, v1.2')).reasons, ['auto_send']);
  });

  it('does not look at the current text of an update that adds no one: a reschedule of a video call runs', () => {
    assert.deepEqual(evaluatePolicy(reschedule, config(), state(), NOW, kept(`Call\n\n${PHISHING}`)).reasons, ['auto_send']);
  });

  it('an approval asked before the text was read does not cover a link in it; one that showed it does', () => {
    const approval = approvalOf(adding, ['new_contact']);
    const unseen = evaluatePolicy(adding, config(), state(), NOW, { approval, ...kept(PHISHING) });
    assert.equal(unseen.decision, 'needs_approval');
    assert.deepEqual(unseen.reasons, ['free_text']);
    const ownLink = { ...adding, description: 'Notes: https://acme.com/notes' };
    const grantedForOwn = approvalOf(ownLink, ['free_text']);
    assert.equal(evaluatePolicy(ownLink, config(), state(), NOW, { approval: grantedForOwn, ...kept(PHISHING) }).decision, 'needs_approval', 'an approval of the update’s own link is not one of the kept text');
    assert.deepEqual(evaluatePolicy(adding, config(), state(), NOW, { approval, ...kept(PHISHING, true) }).reasons, ['approved']);
  });
});
