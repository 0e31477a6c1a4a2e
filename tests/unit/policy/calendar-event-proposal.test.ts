// A calendar write the calendar could never take is refused as it is proposed, before an approver is asked:
// times that are not RFC 3339 with an offset on a day that exists, an end before its start, an event of
// months, an update or cancel without a usable event id, text or attendee counts over the providers' limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import {
  MAX_EVENT_ATTENDEES,
  MAX_EVENT_DESCRIPTION,
  MAX_EVENT_LOCATION,
  MAX_EVENT_TITLE,
} from '../../../agent-image/src/domain/scheduling/event-limits.ts';
import { eventStartWindowIssue } from '../../../agent-image/src/domain/scheduling/event-proposal.ts';
import { config, NOW, state } from './fixtures.ts';

const create = (fields: Record<string, unknown>) => ({
  kind: 'calendar.write',
  operation: 'create',
  title: 'Intro',
  participants: ['bob@partner.com'],
  ...fields,
});
const update = (fields: Record<string, unknown>) => ({
  kind: 'calendar.write',
  operation: 'update',
  eventId: 'ev1',
  ...fields,
});
const decide = (action: Record<string, unknown>) => evaluatePolicy(action, config(), state(), NOW);

describe('a calendar write that cannot be written is refused as proposed', () => {
  it('refuses times that are not RFC 3339 with an offset on a day that exists, naming the field', () => {
    for (const [field, text] of [
      ['start', '2025-06-31T10:00:00+02:00'],
      ['start', '2025-06-10T10:00:00'],
      ['start', '10/6/2025 10:00'],
      ['start', '2025-06-10'],
      ['end', '2025-06-10T11:00'],
      ['end', 'tomorrow'],
    ] as const) {
      const action = create({ start: '2025-06-10T10:00:00+02:00', [field]: text });
      const decision = decide(action);
      assert.equal(decision.decision, 'deny', text);
      assert.deepEqual(decision.reasons, ['unparseable'], text);
      assert.ok(
        decision.details?.some((detail) => detail.startsWith(`${field}:`)),
        `${text}: ${JSON.stringify(decision.details)}`,
      );
    }
  });

  it('refuses an end at or before the start, an end without a start, and an event longer than two weeks', () => {
    for (const action of [
      create({ start: '2025-06-10T10:00:00+02:00', end: '2025-06-10T10:00:00+02:00' }),
      create({ start: '2025-06-10T10:00:00+02:00', end: '2025-06-10T09:00:00+02:00' }),
      // The same instant written in another offset: before the start, though its digits read later.
      create({ start: '2025-06-10T10:00:00+02:00', end: '2025-06-10T11:00:00+05:00' }),
      create({ start: '2025-06-10T10:00:00+02:00', end: '2025-06-24T10:00:01+02:00' }),
      create({ start: '2025-06-10T10:00:00+02:00', end: '2125-06-10T10:00:00+02:00' }),
      update({ end: '2025-06-10T11:00:00+02:00' }),
    ]) {
      assert.deepEqual(decide(action).reasons, ['unparseable'], JSON.stringify(action));
    }
  });

  it('refuses an update or cancel without an event id the providers take, and an update that changes nothing', () => {
    for (const action of [
      { kind: 'calendar.write', operation: 'cancel' },
      { kind: 'calendar.write', operation: 'cancel', eventId: '../users/other/events/ev1' },
      { kind: 'calendar.write', operation: 'update', eventId: 'ev1?sendUpdates=none', title: 'Moved' },
      { kind: 'calendar.write', operation: 'update', eventId: 'ev1' },
    ]) {
      assert.deepEqual(decide(action).reasons, ['unparseable'], JSON.stringify(action));
    }
  });

  it('refuses text and attendee counts the providers refuse', () => {
    const participants = Array.from({ length: MAX_EVENT_ATTENDEES + 1 }, (_, i) => `guest${i}@partner.com`);
    for (const action of [
      create({ start: '2025-06-10T10:00:00+02:00', title: 'x'.repeat(MAX_EVENT_TITLE + 1) }),
      create({ start: '2025-06-10T10:00:00+02:00', title: ' \n ' }),
      create({ start: '2025-06-10T10:00:00+02:00', description: 'x'.repeat(MAX_EVENT_DESCRIPTION + 1) }),
      create({ start: '2025-06-10T10:00:00+02:00', location: 'x'.repeat(MAX_EVENT_LOCATION + 1) }),
      create({ start: '2025-06-10T10:00:00+02:00', participants }),
    ]) {
      assert.deepEqual(decide(action).reasons, ['unparseable']);
    }
  });

  it('still takes what the calendar takes: an hour, a day, two weeks, a cancel with a note, an update of the time alone', () => {
    for (const action of [
      create({ start: '2025-06-10T10:00:00+02:00' }),
      create({ start: '2025-06-10T10:00:00+02:00', end: '2025-06-10T11:00:00.5+02:00' }),
      create({
        start: '2025-06-10T10:00:00+02:00',
        end: '2025-06-24T10:00:00+02:00',
        title: 'x'.repeat(MAX_EVENT_TITLE),
        description: 'x'.repeat(MAX_EVENT_DESCRIPTION),
      }),
      {
        kind: 'calendar.write',
        operation: 'cancel',
        eventId: 'AAMkAGI2TG93AAA=',
        description: 'Sorry, cancelled.',
      },
      update({ start: '2025-06-11T10:00:00Z' }),
    ]) {
      assert.ok(parseProposedAction(action).ok, JSON.stringify(parseProposedAction(action)));
      assert.notEqual(decide(action).reasons[0], 'unparseable');
    }
  });
});

describe('eventStartWindowIssue', () => {
  const now = new Date('2026-06-01T08:00:00Z');
  it('takes a start from a day ago to two years ahead', () => {
    for (const start of ['2026-05-31T09:00:00Z', '2026-06-01T08:00:00Z', '2028-05-31T08:00:00Z']) {
      assert.equal(eventStartWindowIssue(new Date(start), now), null, start);
    }
  });
  it('refuses a start that has passed and one decades away', () => {
    assert.match(eventStartWindowIssue(new Date('2026-05-30T08:00:00Z'), now) ?? '', /past/);
    assert.match(eventStartWindowIssue(new Date('2056-06-01T08:00:00Z'), now) ?? '', /years from now/);
  });
});

describe('the gate refuses an event starting long ago or years ahead as proposed', () => {
  it('denies a start decades away or already past before any approval is asked, and takes one next week', () => {
    for (const start of ['2056-06-10T10:00:00+02:00', '2025-05-20T10:00:00+02:00']) {
      const decision = decide(create({ start }));
      assert.equal(decision.decision, 'deny', start);
      assert.deepEqual(decision.reasons, ['unparseable'], start);
      assert.match(decision.details?.join(' ') ?? '', /^start: /, start);
    }
    assert.notEqual(decide(create({ start: '2025-06-10T10:00:00+02:00' })).decision, 'deny');
    assert.equal(decide(update({ start: '2056-06-10T10:00:00+02:00' })).decision, 'deny', 'a move decades away too');
  });
});
