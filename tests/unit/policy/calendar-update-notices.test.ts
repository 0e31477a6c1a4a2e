import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { recordSend } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { config, NOW, state } from './fixtures.ts';

// An update naming no participant: the provider still mails every attendee of the event a notice of it.
const update = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', description: 'Change of plan: call me on +1 555 0100 before you pay the invoice.' };

describe('a calendar update is mail to the event’s attendees, whoever it names', () => {
  it('is held during onboarding like every other outbound action', () => {
    const onboarding = config({ onboarding: { startedAt: '2025-06-01T00:00:00Z', days: 28 } });
    const decision = evaluatePolicy(update, onboarding, state(), NOW);
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['onboarding']);
  });

  it('waits while sending is paused', () => {
    const decision = evaluatePolicy(update, config(), state({ paused: true }), NOW);
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['paused']);
    assert.equal(decision.retryable, true);
  });

  it('counts against the send limits: a fooled model cannot mail an event’s attendees over and over', () => {
    const limited = config({ rateLimits: { perHour: 2, perDay: 100 } });
    const sent = recordSend(state(), new Date(NOW.getTime() - 10 * 60_000), ['bob@partner.com', 'carol@partner.com']);
    const decision = evaluatePolicy(update, limited, sent, NOW);
    assert.equal(decision.decision, 'deny');
    assert.deepEqual(decision.reasons, ['rate_limit_hour']);
    assert.equal(decision.pauseSending, true);
  });

  it('still runs on its own after onboarding, within the limits; a cancellation stays a deletion', () => {
    assert.deepEqual(evaluatePolicy(update, config(), state(), NOW).reasons, ['auto_send']);
    assert.deepEqual(evaluatePolicy({ kind: 'calendar.write', operation: 'cancel', eventId: 'ev1' }, config(), state(), NOW).reasons, ['deletion']);
  });
});
