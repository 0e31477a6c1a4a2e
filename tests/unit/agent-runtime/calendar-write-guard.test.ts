// An approved calendar change is written only on the version of the event the gate decided on: a change
// landing between the last read and the write makes the provider refuse it, and the change is decided
// anew, never retried blindly nor lost. A whole recurring series is refused before the gate decides, so no
// human is asked to approve what cannot run. Real gate, audit log and stores; the real Google and Graph
// adapters against their emulators.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { EventEditingCalendar } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { CALENDAR_READ_WRITE as PERMISSIONS, googleCalendarUnderTest, graphCalendarUnderTest } from '../../helpers/calendar-adapters-under-test.ts';
import { NOW, clientConfig, openTestRuntime, putApproved } from './calendar-runtime-fixture.ts';

const KNOWN = ['kim@partner.example', 'lou@partner.example'];
const at = (time: string) => new Date(`2026-06-03T${time}:00Z`);

/** One provider under test: the adapter, what its emulator accepted, and another client's hand on the same calendar. */
interface Side {
  calendar: EventEditingCalendar;
  written(id: string): string[];
  /** How many events were created through the API. */
  createdCount(): number;
  description(id: string): string | null;
  addAttendeeBehindTheAgent(id: string, address: string): void;
  makeSeries(id: string): void;
  stop(): Promise<void>;
}

async function googleSide(): Promise<Side> {
  const { emulator, calendar } = await googleCalendarUnderTest();
  return {
    calendar,
    written: (id) => emulator.calendar.changes().filter((c) => c.id === id).map((c) => c.method),
    createdCount: () => emulator.calendar.events().length,
    description: (id) => emulator.calendar.event(id)?.description ?? null,
    addAttendeeBehindTheAgent: (id, address) => emulator.calendar.addGuestBehindTheAgent(id, address),
    makeSeries: (id) => emulator.calendar.makeRecurring(id),
    stop: () => emulator.stop(),
  };
}

async function graphSide(): Promise<Side> {
  const { emulator, calendar } = await graphCalendarUnderTest();
  return {
    calendar,
    written: (id) => emulator.calendar.changes().filter((c) => c.id === id).map((c) => c.method),
    createdCount: () => emulator.calendar.events().length,
    description: (id) => emulator.calendar.event(id)?.body ?? null,
    addAttendeeBehindTheAgent: (id, address) => emulator.calendar.addAttendeeBehindTheAgent(id, address),
    makeSeries: (id) => emulator.calendar.makeSeries(id),
    stop: () => emulator.stop(),
  };
}

const calendarWrites = (records: AuditRecord[], id: string) => records.filter((r) => r.action_type === 'calendar_write' && r.parameters['event_id'] === id);

for (const [name, open] of [['google', googleSide], ['graph', graphSide]] as const) {
  describe(`calendar changes are written on the version decided on (${name})`, () => {
    let side: Side;
    let directory: string;
    let context: RuntimeContext;
    let links: ActionLinks;
    let audit: AuditLog;
    let counter = 0;

    before(async () => {
      side = await open();
      directory = await mkdtemp(join(tmpdir(), 'calendar-guard-'));
      ({ context, audit } = await openTestRuntime(directory, clientConfig({ mailbox: 'agent@acme.example', permissions: PERMISSIONS, knownContacts: KNOWN })));
      links = { mail: null, calendar: side.calendar, crm: null } as unknown as ActionLinks;
    });
    after(async () => {
      await side.stop();
      await audit.close();
      await rm(directory, { recursive: true, force: true });
    });

    const approved = (args: Record<string, unknown>): Promise<StoredApproval> =>
      putApproved(context, { kind: 'calendar.write', ...args }, { id: `ap_${++counter}`, key: `guard-${name}-${counter}`, policyReasons: args['operation'] === 'cancel' ? ['deletion'] : [] });

    async function ownEvent(attendees: readonly string[]): Promise<string> {
      const event = await side.calendar.createEvent({ title: 'Intro', start: at('13:00'), end: at('13:30'), timeZone: 'Europe/Berlin', attendees: [...attendees], idempotencyKey: `guard-${name}-event-${++counter}` });
      return event.id;
    }

    /** The calendar as the executor sees it, with `hooks` run before the named calls reach the provider. */
    function hooked(hooks: { beforeRead?: (count: number) => void; beforeFind?: () => void; beforeWrite?: () => void }): ActionLinks {
      const calendar = side.calendar;
      let reads = 0;
      const hooked: EventEditingCalendar = {
        freeBusy: (from, to) => calendar.freeBusy(from, to),
        createEvent: (event) => (hooks.beforeWrite?.(), calendar.createEvent(event)),
        findEventByIdempotencyKey: (key) => (hooks.beforeFind?.(), calendar.findEventByIdempotencyKey(key)),
        getEvent: (eventId) => (hooks.beforeRead?.(++reads), calendar.getEvent(eventId)),
        updateEvent: (...args) => (hooks.beforeWrite?.(), calendar.updateEvent(...args)),
        cancelEvent: (...args) => (hooks.beforeWrite?.(), calendar.cancelEvent(...args)),
      };
      return { ...links, calendar: hooked } as ActionLinks;
    }

    /** Someone else changes the event just before the agent's next write. */
    const racing = (id: string, address: string): ActionLinks => hooked({ beforeWrite: () => side.addAttendeeBehindTheAgent(id, address) });

    /** Engages the kill switch as the control API does first: latched in memory at once. */
    const kill = () => context.kill.latch();
    const isKilled = (e: unknown) => e instanceof FleetError && e.code === 'killed';

    for (const operation of ['update', 'cancel'] as const) {
      test(`an attendee added between the last read and the ${operation} is not mailed: nothing is written, and the next run decides on them`, async () => {
        const id = await ownEvent(['kim@partner.example']);
        const entry = await approved(operation === 'update' ? { operation, eventId: id, title: 'Intro (moved)' } : { operation, eventId: id });
        assert.equal(await executeApproval(context, racing(id, 'planted@else.example'), entry), 'waiting', 'the approved change is kept, not blocked');
        assert.deepEqual(side.written(id), [], 'nothing written, nobody notified');
        const failures = calendarWrites(await audit.read(), id).filter((r) => r.result === 'failure');
        assert.ok(failures.some((r) => /changed just before the write/.test(String(r.parameters['error']))), JSON.stringify(failures.map((r) => r.parameters['error'])));

        // Run again: the gate decides on the event as it is now and holds it for a human who sees the newcomer.
        assert.equal(await executeApproval(context, links, entry), 'blocked');
        assert.deepEqual(side.written(id), []);
        const held = context.approvals.list(NOW, 'pending').find((e) => e.preview.event?.attendees.includes('planted@else.example') && e.record.id !== entry.record.id);
        assert.ok(held?.record.policyReasons.includes('new_contact'));
      });
    }

    test('a text-only update refused as stale is written on the next run: its audited intent did not get through', async () => {
      const id = await ownEvent(['kim@partner.example']);
      const entry = await approved({ operation: 'update', eventId: id, description: 'New dial-in: call +1 555 0100.' });
      // A known contact joins between the read and the write: the provider refuses the stale version.
      assert.equal(await executeApproval(context, racing(id, 'lou@partner.example'), entry), 'waiting');
      assert.deepEqual(side.written(id), []);
      assert.equal(await executeApproval(context, links, entry), 'done');
      assert.deepEqual(side.written(id), ['PATCH'], 'written once, on the next run');
      assert.equal(side.description(id), 'New dial-in: call +1 555 0100.');
      const results = calendarWrites(await audit.read(), id).map((r) => [r.result, r.parameters['existing'] ?? null]);
      assert.deepEqual(results, [
        ['intended', null],
        ['failure', null],
        ['intended', null],
        ['success', false],
      ]);
    });

    test('a whole recurring series is refused before the gate decides: no human is asked to approve it', async () => {
      // A stranger among the attendees would have held the change for a new approval.
      const id = await ownEvent(['kim@partner.example', 'stranger@else.example']);
      side.makeSeries(id);
      const pendingBefore = context.approvals.list(NOW, 'pending').length;
      for (const args of [{ operation: 'update', eventId: id, title: 'Every week, moved' }, { operation: 'cancel', eventId: id }]) {
        const entry = await approved(args);
        assert.equal(await executeApproval(context, links, entry), 'blocked', String(args.operation));
      }
      assert.equal(context.approvals.list(NOW, 'pending').length, pendingBefore, 'nobody asked');
      assert.deepEqual(side.written(id), []);
      const failures = calendarWrites(await audit.read(), id).filter((r) => r.result === 'failure');
      assert.equal(failures.length, 2);
      assert.ok(failures.every((r) => /recurring series/.test(String(r.parameters['error']))));
    });

    test('invitations that would take the event past the attendee limit are refused before the gate: nobody is asked, nothing is counted', async () => {
      const id = await ownEvent(Array.from({ length: 100 }, (_, i) => `guest${i}@crowd.example`));
      const pendingBefore = context.approvals.list(NOW, 'pending').length;
      const sentBefore = context.policyState().sendHistory.length;
      const entry = await approved({ operation: 'update', eventId: id, participants: ['late@crowd.example'] });
      assert.equal(await executeApproval(context, links, entry), 'blocked');
      assert.equal(context.approvals.list(NOW, 'pending').length, pendingBefore, 'nobody asked');
      assert.equal(context.policyState().sendHistory.length, sentBefore, 'no notice counted');
      assert.deepEqual(side.written(id), []);
      const failures = calendarWrites(await audit.read(), id).filter((r) => r.result === 'failure');
      assert.ok(failures.some((r) => /more than 100 attendees/.test(String(r.parameters['error']))));
    });

    test('a kill engaged while the event is read again stops the update and the cancel before they are written', async () => {
      for (const operation of ['update', 'cancel'] as const) {
        const id = await ownEvent(['kim@partner.example']);
        const entry = await approved(operation === 'update' ? { operation, eventId: id, title: 'Intro (moved)' } : { operation, eventId: id });
        try {
          // The second read is the one just before the write.
          await assert.rejects(executeApproval(context, hooked({ beforeRead: (count) => (count === 2 ? kill() : undefined) }), entry), isKilled);
        } finally {
          await context.kill.release();
        }
        assert.deepEqual(side.written(id), [], operation);
      }
    });

    test('a kill engaged while the calendar is searched for an earlier attempt stops the create', async () => {
      const before = side.createdCount();
      const entry = await approved({ operation: 'create', title: 'Kick-off', start: '2026-06-04T10:00:00+02:00', participants: ['kim@partner.example'] });
      try {
        await assert.rejects(executeApproval(context, hooked({ beforeFind: kill }), entry), isKilled);
      } finally {
        await context.kill.release();
      }
      assert.equal(side.createdCount(), before, 'nothing created, nobody invited');
    });
  });
}
