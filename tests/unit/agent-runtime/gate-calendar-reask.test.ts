// An approved calendar write whose attendee the settings blocked after the approval was given is asked
// about again (a new approval with the block as its reason), as an approved send is, never run and never
// simply refused. Real gate, audit log and stores; in-test calendars.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CalendarEvent, CancelResult, EventChanges, EventDetails, EventEditingCalendar, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';
import { planningEvent } from './calendar-writer-bed.ts';
import { NOW, approveHeld, clientConfig, openTestRuntime, ownedEvent, putApproved } from './calendar-runtime-fixture.ts';

const OWNER = 'me@acme.example';
const KNOWN = ['kim@partner.example', 'pat@supplier.example'];

/** One event the owner organised, with kim as its attendee; records what it creates and which changes it sends. */
class OneEventCalendar implements EventEditingCalendar {
  readonly created: NewEvent[] = [];
  readonly updates: EventChanges[] = [];
  event: EventDetails = ownedEvent({ id: 'ev-1', title: 'Review', attendees: ['kim@partner.example'] });
  async freeBusy(): Promise<[]> {
    return [];
  }
  async createEvent(event: NewEvent): Promise<CalendarEvent> {
    this.created.push(event);
    return { id: `new-${this.created.length}`, title: event.title, start: event.start, end: event.end, attendees: [...event.attendees], idempotencyKey: event.idempotencyKey };
  }
  async findEventByIdempotencyKey(): Promise<null> {
    return null;
  }
  async getEvent(eventId: string): Promise<EventDetails | null> {
    return eventId === this.event.id ? structuredClone(this.event) : null;
  }
  async updateEvent(_eventId: string, changes: EventChanges): Promise<CalendarEvent> {
    this.updates.push(changes);
    this.event = { ...this.event, attendees: [...this.event.attendees, ...(changes.addAttendees ?? [])], version: `v${this.updates.length + 1}` };
    return this.event;
  }
  async cancelEvent(): Promise<CancelResult> {
    throw new Error('no cancel expected');
  }
}

describe('an approved calendar write that reaches someone blocked since is asked about again', () => {
  const base = { mailbox: OWNER, permissions: { 'calendar.read': true, 'calendar.write': true }, knownContacts: KNOWN } as const;
  let directory: string;
  let audit: AuditLog;
  /** The runtime under settings version 2, which blocks supplier.example (version 1, the approval's, did not). */
  let context: RuntimeContext;
  let counter = 0;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gate-calendar-reask-'));
    const opened = await openTestRuntime(directory, clientConfig(base));
    audit = opened.audit;
    context = { ...opened.context, settings: fixedSettings(clientConfig({ ...base, blockList: ['supplier.example'] }), 2) } as RuntimeContext;
  });
  after(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  async function approvedUnderVersion1(args: Record<string, unknown>): Promise<StoredApproval> {
    const entry = await putApproved(context, args, { id: `ap_${++counter}`, key: `cal-${counter}` });
    const stored = { ...entry, settingsVersion: 1 };
    await context.approvals.put(stored);
    return stored;
  }

  function askedAgain(entry: StoredApproval): StoredApproval {
    const pending = context.approvals.list(NOW, 'pending').filter((other) => other.idempotencyKey === entry.idempotencyKey);
    assert.equal(pending.length, 1, 'one new approval asks again');
    const again = pending[0] as StoredApproval;
    assert.ok(again.record.policyReasons.includes('blocked_recipient'), JSON.stringify(again.record.policyReasons));
    assert.deepEqual(again.record.proposedArguments, entry.record.approvedArguments, 'the same write, asked again');
    assert.deepEqual(again.blockedRecipients, ['pat@supplier.example']);
    return again;
  }

  const refusalsOf = async (entry: StoredApproval): Promise<number> =>
    (await audit.read()).filter((record) => record.action_type === 'policy_denied' && record.parameters['approval_id'] === entry.record.id).length;

  test('a new event inviting a newly blocked attendee is held again, then runs once approved knowing it', async () => {
    const calendar = new OneEventCalendar();
    const links = { mail: null, calendar, crm: null } as unknown as ActionLinks;
    const entry = await approvedUnderVersion1(planningEvent(['pat@supplier.example']));
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.equal(calendar.created.length, 0, 'nothing was created');
    assert.equal(await refusalsOf(entry), 0, 'not refused');
    const again = askedAgain(entry);
    const requested = (await audit.read()).filter((record) => record.action_type === 'approval_requested' && record.parameters['approval_id'] === again.record.id);
    assert.equal(requested[0]?.parameters['supersedes'], entry.record.id);

    assert.equal(await executeApproval(context, links, await approveHeld(context, again)), 'done');
    assert.equal(calendar.created.length, 1);
  });

  test('an update adding a newly blocked attendee is held again, not refused; nobody is notified', async () => {
    const calendar = new OneEventCalendar();
    const links = { mail: null, calendar, crm: null } as unknown as ActionLinks;
    const entry = await approvedUnderVersion1({ kind: 'calendar.write', operation: 'update', eventId: 'ev-1', participants: ['pat@supplier.example'] });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.updates, [], 'nothing was written');
    const pending = context.approvals.list(NOW, 'pending').filter((other) => other.idempotencyKey === entry.idempotencyKey);
    assert.equal(pending.length, 1, 'one new approval asks again');
    assert.ok(pending[0]?.record.policyReasons.includes('blocked_recipient'));
    assert.deepEqual([...(pending[0]?.preview.event?.attendees ?? [])].sort(), ['kim@partner.example', 'pat@supplier.example'], 'it shows everyone the update notifies');
    assert.equal(await refusalsOf(entry), 0, 'not refused');
    assert.deepEqual(pending[0]?.blockedRecipients, ['pat@supplier.example'], 'the approval records whom its approver was shown blocked');

    // Approved knowing pat is blocked; a later settings change that blocks no one it notifies asks nothing again.
    const approved = await approveHeld(context, pending[0] as StoredApproval);
    const later = { ...context, settings: fixedSettings(clientConfig({ ...base, blockList: ['supplier.example', 'elsewhere.example'] }), 3) } as RuntimeContext;
    assert.equal(await executeApproval(later, links, approved), 'done');
    assert.equal(calendar.updates.length, 1, 'the update was written once');
  });
});
