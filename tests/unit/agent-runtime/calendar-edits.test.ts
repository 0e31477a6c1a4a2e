// Approved calendar updates and cancels through the approvals executor: real gate, audit log, stores and
// kill switch; the real Google and Graph calendar adapters against their strict emulators.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { EventEditingCalendar } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { CALENDAR_READ_WRITE as PERMISSIONS, googleCalendarUnderTest, graphCalendarUnderTest } from '../../helpers/calendar-adapters-under-test.ts';
import { NOW, clientConfig, openTestRuntime, putApproved } from './calendar-runtime-fixture.ts';

const at = (time: string) => new Date(`2026-06-03T${time}:00Z`);
const calendarWrites = (records: AuditRecord[], result?: string) =>
  records.filter((r) => r.action_type === 'calendar_write' && (result === undefined || r.result === result));

/** One provider under test: the adapter, and what its emulator saw. */
interface Side {
  calendar: EventEditingCalendar;
  changes(): { id: string; operation: 'update' | 'cancel'; added: string[]; notified: boolean }[];
  foreign(): string;
  stop(): Promise<void>;
}

async function googleSide(): Promise<Side> {
  const { emulator, calendar } = await googleCalendarUnderTest();
  return {
    calendar,
    changes: () =>
      emulator.calendar.changes().map((c) => ({ id: c.id, operation: c.method === 'PATCH' ? 'update' : 'cancel', added: c.added, notified: c.sendUpdates === 'all' })),
    foreign: () => emulator.calendar.addForeignEvent({ organizer: 'boss@elsewhere.example', summary: 'Board', start: at('10:00'), end: at('11:00') }),
    stop: () => emulator.stop(),
  };
}

async function graphSide(): Promise<Side> {
  const { emulator, calendar } = await graphCalendarUnderTest();
  return {
    calendar,
    changes: () => emulator.calendar.changes().map((c) => ({ id: c.id, operation: c.method === 'PATCH' ? 'update' : 'cancel', added: c.added, notified: c.byOrganizer })),
    foreign: () => emulator.calendar.addForeignEvent({ organizer: 'boss@elsewhere.example', subject: 'Board', start: at('10:00'), end: at('11:00'), attendees: [emulator.mailbox] }),
    stop: () => emulator.stop(),
  };
}

for (const [name, open] of [['google', googleSide], ['graph', graphSide]] as const) {
  describe(`approved calendar updates and cancels (${name})`, () => {
    let side: Side;
    let directory: string;
    let context: RuntimeContext;
    let links: ActionLinks;
    let audit: AuditLog;
    let state: AgentStateStore;

    before(async () => {
      side = await open();
      directory = await mkdtemp(join(tmpdir(), 'calendar-edits-'));
      const config = clientConfig({ mailbox: 'agent@acme.example', permissions: PERMISSIONS, knownContacts: ['kim@partner.example'] });
      ({ context, audit, state } = await openTestRuntime(directory, config));
      links = { mail: null, calendar: side.calendar, crm: null } as unknown as ActionLinks;
    });
    after(async () => {
      await side.stop();
      await audit.close();
      await rm(directory, { recursive: true, force: true });
    });

    let counter = 0;
    const approved = (args: Record<string, unknown>): Promise<StoredApproval> => putApproved(context, args, { id: `ap_${++counter}`, key: `edit-key-${counter}` });

    async function ownEvent(key: string): Promise<string> {
      const event = await side.calendar.createEvent({ title: 'Intro', start: at('13:00'), end: at('13:30'), timeZone: 'Europe/Berlin', attendees: ['kim@partner.example'], idempotencyKey: key });
      return event.id;
    }

    test('an approved update moves the event and invites the added attendee once, counted against the send limits', async () => {
      const id = await ownEvent(`${name}-update`);
      const sentBefore = state.policy.sendHistory.length;
      const entry = await approved({ kind: 'calendar.write', operation: 'update', eventId: id, title: 'Intro (moved)', start: '2026-06-03T17:00:00+02:00', participants: ['new@third.example'] });
      assert.equal(await executeApproval(context, links, entry), 'done');
      assert.equal(await executeApproval(context, links, entry), 'done', 'a second run finds it done');
      const event = await side.calendar.getEvent(id);
      assert.equal(event?.title, 'Intro (moved)');
      assert.equal(event?.start.toISOString(), at('15:00').toISOString());
      assert.equal(event?.end.toISOString(), at('15:30').toISOString(), 'a new start without an end keeps the length');
      assert.deepEqual([...(event?.attendees ?? [])].sort(), ['kim@partner.example', 'new@third.example']);
      assert.deepEqual(side.changes().filter((c) => c.id === id), [{ id, operation: 'update', added: ['new@third.example'], notified: true }]);
      assert.equal(state.policy.sendHistory.length - sentBefore, 1, 'the update counts as a send');
      assert.equal(state.policy.sendHistory.at(-1)?.recipients, 2, 'to the attendee invited before (notified) and the one added');
      const writes = calendarWrites(await audit.read()).filter((r) => r.parameters['event_id'] === id);
      assert.deepEqual(writes.map((r) => [r.result, r.target, r.approved_by, r.parameters['existing'] ?? null]), [
        ['intended', 'new@third.example', 'boss', null],
        ['success', 'new@third.example', 'boss', false],
        ['success', `calendar_event:${id}`, 'boss', true],
      ]);
    });

    test('an update that would notify an attendee the approver never saw (not a known contact) is held for approval showing everyone, read from the provider', async () => {
      const created = await side.calendar.createEvent({ title: 'Sync', start: at('15:00'), end: at('15:30'), timeZone: 'Europe/Berlin', attendees: ['kim@partner.example', 'stranger@else.example'], idempotencyKey: `${name}-held` });
      const entry = await approved({ kind: 'calendar.write', operation: 'update', eventId: created.id, description: 'New dial-in: call +1 555 0100.' });
      assert.equal(await executeApproval(context, links, entry), 'blocked');
      assert.deepEqual(side.changes().filter((c) => c.id === created.id), [], 'nothing sent');
      const held = context.approvals.list(NOW, 'pending').filter((e) => e.preview.event?.attendees.includes('stranger@else.example'));
      assert.equal(held.length, 1);
      assert.deepEqual([...(held[0]?.preview.event?.attendees ?? [])].sort(), ['kim@partner.example', 'stranger@else.example']);
      assert.ok(held[0]?.record.policyReasons.includes('new_contact'));
    });

    test('an approved cancel cancels once; a retry after a crash (intent audited, outcome not) is done', async () => {
      const id = await ownEvent(`${name}-cancel`);
      const entry = await approved({ kind: 'calendar.write', operation: 'cancel', eventId: id, description: 'Sorry, cancelled.' });
      assert.equal(await executeApproval(context, links, entry), 'done');
      const after = await side.calendar.getEvent(id);
      assert.ok(after === null || after.cancelled);
      // The record is run again as after a crash before its execution was stored.
      await context.approvals.put({ ...entry, execution: 'waiting' });
      assert.equal(await executeApproval(context, links, entry), 'done');
      assert.deepEqual(side.changes().filter((c) => c.id === id).map((c) => [c.operation, c.notified]), [['cancel', true]]);
      const writes = calendarWrites(await audit.read()).filter((r) => r.parameters['event_id'] === id);
      assert.deepEqual(writes.map((r) => [r.result, r.parameters['operation'], r.parameters['existing'] ?? null]), [
        ['intended', 'cancel', null],
        ['success', 'cancel', false],
        ['success', 'cancel', true],
      ]);
    });

    test('a cancel or update of an event someone else organised is refused and audited; nothing changes', async () => {
      const id = side.foreign();
      for (const args of [
        { kind: 'calendar.write', operation: 'cancel', eventId: id },
        { kind: 'calendar.write', operation: 'update', eventId: id, start: '2026-06-03T18:00:00+02:00' },
      ]) {
        const entry = await approved(args);
        assert.equal(await executeApproval(context, links, entry), 'blocked');
        assert.equal(context.approvals.get(entry.record.id)?.execution, 'blocked');
      }
      assert.deepEqual(side.changes().filter((c) => c.id === id), []);
      const event = await side.calendar.getEvent(id);
      assert.equal(event?.cancelled, false);
      assert.equal(event?.start.toISOString(), at('10:00').toISOString());
      const refused = calendarWrites(await audit.read(), 'failure').filter((r) => r.parameters['event_id'] === id);
      assert.equal(refused.length, 2);
      assert.ok(refused.every((r) => /organised by someone else/.test(String(r.parameters['error']))));
      assert.equal(calendarWrites(await audit.read(), 'intended').filter((r) => r.parameters['event_id'] === id).length, 0);
    });

    test('an unknown event is blocked and audited; a cancel without an event id is refused as proposed', async () => {
      const unknown = name === 'google' ? 'abcdef0123456789' : 'AAMkAGI2TG93AAA=';
      assert.equal(await executeApproval(context, links, await approved({ kind: 'calendar.write', operation: 'cancel', eventId: unknown })), 'blocked');
      const failures = calendarWrites(await audit.read(), 'failure').map((r) => String(r.parameters['error']));
      assert.ok(failures.some((error) => /no such event/.test(error)));
      for (const eventId of [undefined, '../other-calendar/ev1', '']) {
        const parsed = parseProposedAction({ kind: 'calendar.write', operation: 'cancel', ...(eventId === undefined ? {} : { eventId }) });
        assert.ok(!parsed.ok && parsed.issues.some((issue) => issue.startsWith('eventId:')), String(eventId));
      }
    });
  });
}
