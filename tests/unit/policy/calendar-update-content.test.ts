import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { config, NOW, state } from './fixtures.ts';

const decide = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW);

describe('calendar writes that name no participant still reach the attendees', () => {
  it('holds an update whose text links to a shortener, though it invites no one new', () => {
    const decision = decide({ kind: 'calendar.write', operation: 'update', eventId: 'ev1', description: 'New dial-in: https://bit.ly/3xYz' });
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['url_shortener']);
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'update', eventId: 'ev1', location: 'tinyurl.com/room' }).reasons, ['url_shortener']);
  });

  it('holds a new event whose text links to a shortener, with or without participants', () => {
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'create', title: 'Sync', start: '2025-06-03T10:00:00Z', description: 'https://t.co/x' }).reasons, ['url_shortener']);
  });

  it('still lets a plain update of the owner’s event through (as mail to its attendees)', () => {
    assert.deepEqual(decide({ kind: 'calendar.write', operation: 'update', eventId: 'ev1', title: 'Moved', start: '2025-06-03T10:00:00Z' }).reasons, ['auto_send']);
  });
});
