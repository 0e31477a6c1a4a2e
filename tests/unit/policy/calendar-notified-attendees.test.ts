import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approve, createApproval, type ApprovalRecord } from '../../../agent-image/src/domain/approval.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { config, NOW, state } from './fixtures.ts';

// The gate told who an event change notifies (the event's attendees, read just before it runs): each is a
// recipient for every rule, and an approval covers only those its approver was shown.
const update = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', title: 'Moved' };
const cancel = { kind: 'calendar.write', operation: 'cancel', eventId: 'ev1' };
const KNOWN = ['bob@partner.com', 'carol@partner.com'];
const notified = (attendees: string[], shown: string[] = []) => ({ notified: { attendees, shown } });

function approvalOf(args: Record<string, unknown>, reasons: string[] = []): ApprovalRecord {
  const parsed = parseProposedAction(args);
  assert.ok(parsed.ok);
  const created = createApproval({ id: 'ap_1', actionKind: parsed.action.kind, arguments: parsed.action, policyReasons: reasons, now: NOW, timeoutHours: 72 });
  assert.ok(created.ok);
  const decided = approve(created.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
  assert.ok(decided.ok);
  return decided.record;
}

describe('the attendees an event change notifies are its recipients', () => {
  it('an attendee who is not a known contact holds an update that names nobody', () => {
    assert.deepEqual(evaluatePolicy(update, config(), state(), NOW).reasons, ['auto_send'], 'without them the gate sees nobody');
    const decision = evaluatePolicy(update, config(), state(), NOW, notified([...KNOWN, 'eve@stranger.example']));
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['new_contact']);
    assert.equal(decision.facts?.recipients, 3);
    assert.equal(decision.facts?.newContacts, 1);
  });

  it('an attendee on the block list holds it, whatever the case of the address the calendar gives', () => {
    const decision = evaluatePolicy(update, config({ blockList: ['rival.example'], knownContacts: [...KNOWN, 'ceo@rival.example'] }), state(), NOW, notified([' CEO@Rival.Example ']));
    assert.deepEqual(decision.reasons, ['blocked_recipient']);
  });

  it('more attendees than the bulk threshold hold it', () => {
    const many = Array.from({ length: 6 }, (_, i) => `p${i}@partner.com`);
    const decision = evaluatePolicy(update, config({ knownContacts: many }), state(), NOW, notified(many));
    assert.deepEqual(decision.reasons, ['bulk']);
  });

  it('every attendee counts against the rate limits, not one per change', () => {
    const limited = config({ rateLimits: { perHour: 2, perDay: 100 } });
    assert.equal(evaluatePolicy(update, limited, state(), NOW).decision, 'allow');
    const decision = evaluatePolicy(update, limited, state(), NOW, notified([...KNOWN, 'dave@client.org']));
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['rate_limit_hour']);
    assert.equal(decision.pauseSending, true);
  });

  it('a cancel notifies its attendees too: counted against the limits and held in onboarding, beside the deletion', () => {
    const limited = config({ rateLimits: { perHour: 1, perDay: 100 } });
    const approval = approvalOf(cancel, ['deletion']);
    assert.equal(evaluatePolicy(cancel, limited, state(), NOW, { approval }).decision, 'allow');
    assert.deepEqual(evaluatePolicy(cancel, limited, state(), NOW, { approval, ...notified(KNOWN, KNOWN) }).reasons, ['rate_limit_hour']);
    const onboarding = config({ onboarding: { startedAt: '2025-06-01T00:00:00Z', days: 28 } });
    assert.deepEqual(evaluatePolicy(cancel, onboarding, state(), NOW, notified(KNOWN)).reasons, ['onboarding', 'deletion']);
  });

  it('an approval covers the attendees its approver was shown, and the participants it names', () => {
    const args = { ...update, participants: ['eve@stranger.example'] };
    const approval = approvalOf(args, ['new_contact']);
    const seen = evaluatePolicy(args, config(), state(), NOW, { approval, ...notified(['zed@other.example', 'eve@stranger.example'], ['zed@other.example']) });
    assert.deepEqual([seen.decision, seen.reasons], ['allow', ['approved']]);
    assert.equal(seen.facts?.recipients, 2);
  });

  it('an approval does not cover a new contact, a blocked address or bulk that only attendees it never showed bring', () => {
    const approval = approvalOf(update);
    const unseen = evaluatePolicy(update, config(), state(), NOW, { approval, ...notified(['zed@other.example']) });
    assert.equal(unseen.decision, 'needs_approval');
    assert.deepEqual(unseen.reasons, ['new_contact']);
    assert.ok(unseen.details?.some((d) => /without showing 1 attendee/.test(d)));
    const many = Array.from({ length: 6 }, (_, i) => `p${i}@partner.com`);
    const bulk = evaluatePolicy(update, config({ knownContacts: many }), state(), NOW, { approval, ...notified(many, many.slice(0, 5)) });
    assert.deepEqual([bulk.decision, bulk.reasons], ['needs_approval', ['bulk']]);
    const blocked = evaluatePolicy(update, config({ blockList: ['rival.example'], knownContacts: ['x@rival.example'] }), state(), NOW, { approval, ...notified(['x@rival.example']) });
    assert.deepEqual([blocked.decision, blocked.reasons], ['needs_approval', ['blocked_recipient']]);
  });

  it('unseen attendees who bring no hold (known, few, not blocked) leave the approval in force', () => {
    const approval = approvalOf(update);
    assert.deepEqual(evaluatePolicy(update, config(), state(), NOW, { approval, ...notified(KNOWN) }).reasons, ['approved']);
  });

  it('is ignored for a create and for other kinds: only their own recipients count', () => {
    const create = { kind: 'calendar.write', operation: 'create', title: 'Lunch', start: '2025-06-03T12:00:00+02:00', participants: ['bob@partner.com'] };
    assert.equal(evaluatePolicy(create, config(), state(), NOW, notified(['eve@stranger.example'])).facts?.recipients, 1);
    const send = { kind: 'mail.send', to: ['bob@partner.com'], subject: 'Hi', body: 'Hello', emailType: 'follow_up' };
    assert.equal(evaluatePolicy(send, config(), state(), NOW, notified(['eve@stranger.example'])).facts?.recipients, 1);
  });
});
