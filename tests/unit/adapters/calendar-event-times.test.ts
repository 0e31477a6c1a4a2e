// The times of an approved calendar write are the times the approval showed: only RFC 3339 with an offset
// and a real date reach the calendar; forms Date.parse would read another way are refused before any
// invitation is counted or sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { SendAuthority } from '../../../agent-image/src/domain/audit-events.ts';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { emptyPolicyState, type PolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { parseEventInstant } from '../../../agent-image/src/domain/scheduling/event-instant.ts';
import type { CalendarEvent, EventChanges, EventDetails, EventEditingCalendar, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import { editEventOnce } from '../../../agent-image/src/services/runtime/calendar-edits.ts';
import { createEventOnce, type CalendarWrite } from '../../../agent-image/src/services/runtime/calendar-writes.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';

const NOW = new Date('2026-03-01T08:00:00Z');
const AUTHORITY: SendAuthority = { actor: 'agent', approvalStatus: 'approved', approvedBy: 'admin@acme.example' };

describe('parseEventInstant', () => {
  it('reads RFC 3339 with an offset, to the instant', () => {
    assert.equal(parseEventInstant('2026-03-10T10:00:00+01:00')?.toISOString(), '2026-03-10T09:00:00.000Z');
    assert.equal(parseEventInstant('2026-03-10T10:00Z')?.toISOString(), '2026-03-10T10:00:00.000Z');
    assert.equal(parseEventInstant('2028-02-29T23:59:59.5-05:30')?.toISOString(), '2028-03-01T05:29:59.500Z');
  });

  it('refuses what Date.parse would read as another time than the one shown', () => {
    for (const text of [
      '2026-02-30T10:00:00Z', // rolls over to March 2
      '2026-02-29T10:00:00Z', // not a leap year
      '2026-03-10T10:00:00', // no offset: the process's zone
      '2026-03-10 10:00',
      '10/3/2026',
      'March 10 2026 10:00',
      '2026-03-10', // a date is not a time
      '2026-03-10T24:00:00Z',
      '2026-03-10T10:60:00Z',
      '2026-03-10T10:00:00+15:00',
      '2026-03-10T10:00:00+01:75',
      '+275760-09-13T00:00:00Z',
    ]) {
      assert.equal(parseEventInstant(text), null, text);
    }
  });
});

/** A calendar that records what it was asked to do. */
function recordingCalendar(existing: EventDetails | null = null) {
  const created: NewEvent[] = [];
  const updated: EventChanges[] = [];
  const calendar: EventEditingCalendar = {
    freeBusy: async () => [],
    createEvent: async (event) => {
      created.push(event);
      return { id: 'ev1', title: event.title, start: event.start, end: event.end, attendees: event.attendees, idempotencyKey: event.idempotencyKey } satisfies CalendarEvent;
    },
    findEventByIdempotencyKey: async () => null,
    getEvent: async () => existing,
    updateEvent: async (_id, changes) => {
      updated.push(changes);
      return { ...(existing as EventDetails) };
    },
    cancelEvent: async () => ({ alreadyCancelled: false }),
  };
  return { calendar, created, updated };
}

/** The client: its calendar's attendee a known contact, so the gate (run again before a change) lets it through. */
const CONFIG = (() => {
  const parsed = parseClientConfig({
    client: 'acme',
    mailbox: 'me@acme.example',
    timezone: 'Europe/Berlin',
    onboarding: { startedAt: '2026-01-01T00:00:00Z', days: 28 },
    permissions: { 'calendar.write': true },
    knownContacts: ['ana@customer.example'],
  });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

/** The parts of the runtime a calendar write touches. */
function fakeContext() {
  const audited: { result: string; parameters: Record<string, unknown> }[] = [];
  let policy: PolicyState = emptyPolicyState();
  const context = {
    config: CONFIG,
    settings: { current: () => ({ config: CONFIG, gate: compilePolicy(CONFIG), version: 1 }) },
    approvals: { get: () => undefined },
    metrics: { policyDecision: () => undefined, recipientsReached: () => undefined },
    audit: {
      append: async (event: { result: string; parameters: Record<string, unknown> }) => {
        audited.push(event);
      },
      records: async function* () {},
    },
    kill: { assertAlive: () => undefined, killed: false },
    state: {
      setPolicy: async (next: PolicyState) => {
        policy = next;
      },
    },
    policyState: () => policy,
    now: () => NOW,
    logger: createSilentLogger(),
  } as unknown as RuntimeContext;
  return { context, audited, sends: () => policy.sendHistory.length };
}

function write(fields: Record<string, unknown>): CalendarWrite {
  const parsed = parseProposedAction({ kind: 'calendar.write', participants: ['ana@customer.example'], ...fields });
  if (!parsed.ok || parsed.action.kind !== 'calendar.write') throw new Error(`bad fixture: ${JSON.stringify(parsed)}`);
  return parsed.action;
}

/**
 * A write the schema refuses as proposed, handed to the executor all the same (as a record written before
 * the schema refused it would be): the executor's own check still holds.
 */
function unparsedWrite(fields: Record<string, unknown>): CalendarWrite {
  const input = { kind: 'calendar.write', participants: ['ana@customer.example'], ...fields };
  assert.equal(parseProposedAction(input).ok, false, 'refused as proposed, before any approval is asked');
  return input as unknown as CalendarWrite;
}

describe('createEventOnce: the approved times, or nothing', () => {
  for (const [what, start, end] of [
    ['a day that does not exist', '2026-02-30T10:00:00+01:00', null],
    ['a start without an offset', '2026-03-10T10:00:00', null],
    ['a locale date', '10/3/2026 10:00', null],
    ['an end without an offset', '2026-03-10T10:00:00+01:00', '2026-03-10T11:00:00'],
  ] as const) {
    it(`fails ${what} without creating, inviting or counting a send`, async () => {
      const { calendar, created } = recordingCalendar();
      const { context, audited, sends } = fakeContext();
      const outcome = await createEventOnce({
        context,
        calendar,
        action: unparsedWrite({ operation: 'create', title: 'Call', start, ...(end === null ? {} : { end }) }),
        key: 'cal-times-1',
        authority: AUTHORITY,
        parameters: {},
      });
      assert.equal(outcome, 'failed');
      assert.equal(created.length, 0);
      assert.equal(sends(), 0);
      assert.deepEqual(
        audited.map((r) => r.result),
        ['failure'],
      );
    });
  }

  it('creates an event with an offset at exactly that instant', async () => {
    const { calendar, created } = recordingCalendar();
    const { context } = fakeContext();
    const outcome = await createEventOnce({
      context,
      calendar,
      action: write({ operation: 'create', title: 'Call', start: '2026-03-10T10:00:00+01:00' }),
      key: 'cal-times-2',
      authority: AUTHORITY,
      parameters: {},
    });
    assert.equal(outcome, 'done');
    assert.equal(created[0]?.start.toISOString(), '2026-03-10T09:00:00.000Z');
    assert.equal(created[0]?.end.toISOString(), '2026-03-10T10:00:00.000Z');
  });
});

describe('editEventOnce: a new time is the approved time, or nothing', () => {
  const current: EventDetails = {
    id: 'ev1',
    title: 'Call',
    start: new Date('2026-03-09T09:00:00Z'),
    end: new Date('2026-03-09T10:00:00Z'),
    attendees: ['ana@customer.example'],
    idempotencyKey: null,
    content: { description: '', location: '' },
    organizedByOwner: true,
    cancelled: false,
    recurrence: 'single',
    version: null,
  };

  /** Runs an approved update of the event as it now reads; what the calendar was asked and what was audited. */
  async function edit(action: CalendarWrite, key: string, existing: EventDetails = current) {
    const { calendar, updated } = recordingCalendar(existing);
    const { context, audited } = fakeContext();
    const outcome = await editEventOnce({ context, calendar, action, key, authority: AUTHORITY, parameters: {}, since: NOW });
    return { outcome, updated, audited };
  }

  it('fails a start on a day that does not exist instead of moving the meeting to another day', async () => {
    const { outcome, updated } = await edit(unparsedWrite({ operation: 'update', eventId: 'ev1', start: '2026-02-31T10:00:00+01:00' }), 'cal-times-3');
    assert.equal(outcome, 'failed');
    assert.equal(updated.length, 0);
  });

  it('a retried rename whose title had a line break is found applied: no second notice to the attendees', async () => {
    // The adapters write "Call\nagain" as "Call again"; the event reads back so after the first attempt got through.
    const { outcome, updated, audited } = await edit(write({ operation: 'update', eventId: 'ev1', title: 'Call\nagain ' }), 'cal-times-5', { ...current, title: 'Call again' });
    assert.equal(outcome, 'done');
    assert.equal(updated.length, 0);
    assert.deepEqual(
      audited.map((r) => r.result),
      ['success'],
    );
  });

  it('moves the meeting to exactly the instant given with an offset, keeping its length', async () => {
    const { outcome, updated } = await edit(write({ operation: 'update', eventId: 'ev1', start: '2026-03-11T15:30:00+01:00' }), 'cal-times-4');
    assert.equal(outcome, 'done');
    assert.equal(updated[0]?.start?.toISOString(), '2026-03-11T14:30:00.000Z');
    assert.equal(updated[0]?.end?.toISOString(), '2026-03-11T15:30:00.000Z');
  });
});
