// An update or cancel of an event notifies every attendee the calendar lists, not only those it names:
// before it runs, the gate decides again with all of them as recipients (block list, new contacts, bulk,
// send limits), an approval covers only the attendees its approver was shown, and what the gate holds
// waits for a human as a new approval that shows everyone who will be notified. Real gate, audit log,
// stores and kill switch; an in-test calendar that records what it was asked to send.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { learnContacts } from '../../../agent-image/src/domain/policy/policy-state.ts';
import type { CalendarEvent, CancelResult, EventChanges, EventDetails, EventEditingCalendar, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { NOW, approveHeld, clientConfig, openTestRuntime, ownedEvent, putApproved } from './calendar-runtime-fixture.ts';

const OWNER = 'me@acme.example';
const KNOWN = ['kim@partner.example', 'lou@partner.example', 'max@partner.example'];

/** A primary calendar of events the owner organised; each update or cancel notifies every attendee. */
class NotifyingCalendar implements EventEditingCalendar {
  readonly events = new Map<string, EventDetails>();
  /** Each notice the provider would have sent: which change, to whom. */
  readonly notices: { id: string; operation: 'update' | 'cancel'; to: string[] }[] = [];

  add(id: string, attendees: string[]): string {
    this.events.set(id, ownedEvent({ id, title: 'Planted', attendees }));
    return id;
  }
  sentFor(id: string): { operation: string; to: string[] }[] {
    return this.notices.filter((n) => n.id === id).map(({ operation, to }) => ({ operation, to }));
  }
  async freeBusy(): Promise<[]> {
    return [];
  }
  async createEvent(event: NewEvent): Promise<CalendarEvent> {
    throw new Error(`no create expected (${event.title})`);
  }
  async findEventByIdempotencyKey(): Promise<null> {
    return null;
  }
  /** What someone else does to the calendar right after the agent's next read of an event (once). */
  afterNextRead: ((event: EventDetails) => void) | undefined;

  async getEvent(eventId: string): Promise<EventDetails | null> {
    const event = this.events.get(eventId);
    const read = event === undefined ? null : structuredClone(event);
    const meanwhile = this.afterNextRead;
    this.afterNextRead = undefined;
    if (event !== undefined) meanwhile?.(event);
    return read;
  }

  /** Someone else adds an attendee to the event (their own invitation, or an injected one). */
  addAttendee(id: string, address: string): void {
    const event = this.events.get(id);
    if (event === undefined) throw new Error('no such event');
    this.events.set(id, { ...event, attendees: [...event.attendees, address] });
  }
  async updateEvent(eventId: string, changes: EventChanges): Promise<CalendarEvent> {
    const event = this.events.get(eventId);
    if (event === undefined) throw new Error('no such event');
    const attendees = [...event.attendees, ...(changes.addAttendees ?? [])];
    const updated = { ...event, ...(changes.title === undefined ? {} : { title: changes.title }), ...(changes.start === undefined ? {} : { start: changes.start }), ...(changes.end === undefined ? {} : { end: changes.end }), attendees };
    this.events.set(eventId, updated);
    this.notices.push({ id: eventId, operation: 'update', to: attendees });
    return updated;
  }
  async cancelEvent(eventId: string): Promise<CancelResult> {
    const event = this.events.get(eventId);
    if (event === undefined) throw new Error('no such event');
    if (event.cancelled) return { alreadyCancelled: true };
    this.events.set(eventId, { ...event, cancelled: true });
    this.notices.push({ id: eventId, operation: 'cancel', to: event.attendees });
    return { alreadyCancelled: false };
  }
}

describe('an event change is decided on everyone it notifies', () => {
  let directory: string;
  let audit: AuditLog;
  let context: RuntimeContext;
  let calendar: NotifyingCalendar;
  let links: ActionLinks;
  let paused: string[];
  let counter = 0;

  async function open(overrides: Partial<ClientConfigInput> = {}): Promise<void> {
    const config = clientConfig({
      mailbox: OWNER,
      permissions: { 'calendar.read': true, 'calendar.write': true },
      knownContacts: KNOWN,
      blockList: ['rival.example'],
      ...overrides,
    });
    ({ context, audit, paused } = await openTestRuntime(join(directory, String(++counter)), config));
    calendar = new NotifyingCalendar();
    links = { mail: null, calendar, crm: null } as unknown as ActionLinks;
  }

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'calendar-notified-'));
  });
  beforeEach(() => open());
  after(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  /** An update or cancel approved by a human who was shown its arguments only (as today's records show). */
  const approved = (args: Record<string, unknown>): Promise<StoredApproval> =>
    putApproved(context, { kind: 'calendar.write', ...args }, { id: `ap_${++counter}`, key: `edit-${counter}`, policyReasons: args['operation'] === 'cancel' ? ['deletion'] : [] });

  /** The approvals waiting for a human, except `besides`. */
  const pendingBesides = (besides: string) => context.approvals.list(NOW, 'pending').filter((entry) => entry.record.id !== besides);

  test('an approved update naming nobody is held again when it would mail attendees the approver never saw; approved with them shown, it runs once and counts each', async () => {
    const attendees = [...KNOWN, 'stranger@new.example'];
    const id = calendar.add('ev-new', attendees);
    const entry = await approved({ operation: 'update', eventId: id, description: 'Change of plan: call +1 555 0100 before you pay.' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.sentFor(id), [], 'nobody was mailed');
    const held = pendingBesides(entry.record.id);
    assert.equal(held.length, 1, 'held again for a human');
    const again = held[0] as StoredApproval;
    assert.ok(again.record.policyReasons.includes('new_contact'));
    assert.deepEqual([...(again.preview.event?.attendees ?? [])].sort(), [...attendees].sort(), 'the approver sees everyone who will be notified');
    assert.deepEqual([...again.preview.to].sort(), [...attendees].sort());
    assert.deepEqual(again.record.proposedArguments, entry.record.approvedArguments, 'the same change, approved again');
    const requested = (await audit.read()).filter((r) => r.action_type === 'approval_requested');
    assert.equal(requested.length, 1);
    assert.equal(requested[0]?.parameters['supersedes'], entry.record.id);
    assert.equal(requested[0]?.parameters['event_id'], id);

    // Run again (a crash before the execution was stored): no second approval is asked.
    await context.approvals.put({ ...entry, execution: 'waiting' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.equal(pendingBesides(entry.record.id).length, 1);

    const sentBefore = context.policyState().sendHistory.reduce((sum, r) => sum + r.recipients, 0);
    assert.equal(await executeApproval(context, links, await approveHeld(context, again)), 'done');
    assert.deepEqual(calendar.sentFor(id), [{ operation: 'update', to: attendees }]);
    const sentAfter = context.policyState().sendHistory.reduce((sum, r) => sum + r.recipients, 0);
    assert.equal(sentAfter - sentBefore, attendees.length, 'every notified attendee counts against the send limits');
  });

  test('an attendee on the block list holds the update, even when every name in it is known', async () => {
    const id = calendar.add('ev-blocked', [KNOWN[0] as string, 'ceo@rival.example']);
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved', start: '2026-06-03T14:00:00+02:00' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.sentFor(id), []);
    const [held] = pendingBesides(entry.record.id);
    assert.ok(held?.record.policyReasons.includes('blocked_recipient'));
  });

  test('an attendee listed with the domain in full-width letters or another script is decided on as the domain mail reaches', async () => {
    await open({ blockList: ['rival.example', 'xn--bcher-kva.example'] });
    const id = calendar.add('ev-idn', [KNOWN[0] as string, 'ceo@ｒｉｖａｌ.example', 'Ana@Bücher.example']);
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.sentFor(id), []);
    const [held] = pendingBesides(entry.record.id);
    assert.ok(held !== undefined && held.record.policyReasons.includes('blocked_recipient'), JSON.stringify(held?.record.policyReasons));
    assert.deepEqual([...(held.preview.event?.attendees ?? [])].sort(), [KNOWN[0], 'ana@xn--bcher-kva.example', 'ceo@rival.example'].sort());
  });

  test('more attendees than the bulk threshold hold the update, known contacts or not', async () => {
    await open({ knownContacts: [...KNOWN, 'a@partner.example', 'b@partner.example', 'c@partner.example'] });
    const attendees = [...KNOWN, 'a@partner.example', 'b@partner.example', 'c@partner.example'];
    const id = calendar.add('ev-bulk', attendees);
    const entry = await approved({ operation: 'update', eventId: id, title: 'All hands (moved)' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.sentFor(id), []);
    const [held] = pendingBesides(entry.record.id);
    assert.deepEqual(held?.record.policyReasons, ['bulk']);
  });

  test('the notices count against the rate limits: over them, the update waits and sending pauses', async () => {
    await open({ rateLimits: { perHour: 2, perDay: 100 } });
    const id = calendar.add('ev-limit', KNOWN);
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved' });
    assert.equal(await executeApproval(context, links, entry), 'waiting');
    assert.deepEqual(calendar.sentFor(id), []);
    assert.deepEqual(paused, ['rate_limit']);
  });

  test('an update whose attendees are all known and few runs at once, each of them counted', async () => {
    const id = calendar.add('ev-known', [...KNOWN, OWNER]);
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved', participants: ['new@third.example'] });
    assert.equal(await executeApproval(context, links, entry), 'done');
    assert.deepEqual(calendar.sentFor(id), [{ operation: 'update', to: [...KNOWN, OWNER, 'new@third.example'] }]);
    assert.equal(pendingBesides(entry.record.id).length, 0);
    // The owner's own mailbox is not notified of its own change.
    assert.deepEqual(context.policyState().sendHistory.map((r) => r.recipients), [KNOWN.length + 1]);
  });

  test('a cancel mails its notice to every attendee: one the approver never saw on the block list holds it', async () => {
    const id = calendar.add('ev-cancel', [KNOWN[1] as string, 'cfo@rival.example']);
    const entry = await approved({ operation: 'cancel', eventId: id, description: 'Sorry, cancelled.' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    assert.deepEqual(calendar.sentFor(id), []);
    const [held] = pendingBesides(entry.record.id);
    assert.ok(held !== undefined);
    assert.deepEqual(held.record.policyReasons, ['blocked_recipient', 'new_contact', 'deletion']);
    assert.deepEqual([...(held.preview.event?.attendees ?? [])].sort(), [KNOWN[1], 'cfo@rival.example'].sort());
    assert.equal(await executeApproval(context, links, await approveHeld(context, held)), 'done');
    assert.deepEqual(calendar.sentFor(id), [{ operation: 'cancel', to: [KNOWN[1], 'cfo@rival.example'] }]);
  });

  test('an attendee added after the approval that showed the others holds the update again', async () => {
    const id = calendar.add('ev-grows', [...KNOWN, 'first@new.example']);
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved' });
    assert.equal(await executeApproval(context, links, entry), 'blocked');
    const [held] = pendingBesides(entry.record.id);
    assert.ok(held !== undefined);
    const event = calendar.events.get(id);
    assert.ok(event !== undefined);
    calendar.events.set(id, { ...event, attendees: [...event.attendees, 'second@new.example'] });
    const approvedHeld = await approveHeld(context, held);
    assert.equal(await executeApproval(context, links, approvedHeld), 'blocked');
    assert.deepEqual(calendar.sentFor(id), []);
    const latest = pendingBesides(entry.record.id).filter((e) => e.record.id !== held.record.id);
    assert.equal(latest.length, 1);
    assert.ok(latest[0]?.preview.event?.attendees.includes('second@new.example'));
  });

  test('an attendee the contacts learnt since is no new contact; the known ones the approver saw are covered', async () => {
    const id = calendar.add('ev-learnt', [...KNOWN, 'lena@learnt.example']);
    await context.state.setPolicy(learnContacts(context.policyState(), ['lena@learnt.example']));
    const entry = await approved({ operation: 'update', eventId: id, title: 'Moved' });
    assert.equal(await executeApproval(context, links, entry), 'done');
    assert.equal(calendar.sentFor(id).length, 1);
  });

  test('an approved move to a time that has passed, or decades ahead, is blocked and audited; nobody is mailed', async () => {
    const id = calendar.add('ev-when', [...KNOWN]);
    for (const start of ['2026-05-20T10:00:00+02:00', '2066-06-03T10:00:00+02:00']) {
      assert.equal(await executeApproval(context, links, await approved({ operation: 'update', eventId: id, start })), 'blocked', start);
    }
    assert.deepEqual(calendar.sentFor(id), []);
    // Refused by the gate as it re-decides the approved change (the executor refuses the same if it got there).
    const records = await audit.read();
    for (const start of ['2026-05-20T10:00:00+02:00', '2066-06-03T10:00:00+02:00']) {
      const refusal = records.find((record) => record.parameters['start'] === start && record.parameters['decision'] === 'deny');
      assert.deepEqual(refusal?.parameters['reasons'], ['unparseable'], start);
    }
  });

  for (const operation of ['update', 'cancel'] as const) {
    test(`an attendee added while the gate decided is not mailed: the ${operation} is not written, and the next run holds it showing them`, async () => {
      const id = calendar.add(`ev-race-${operation}`, [...KNOWN]);
      const entry = await approved(operation === 'update' ? { operation, eventId: id, title: 'Moved' } : { operation, eventId: id });
      // The gate reads the event with known contacts only; before the change lands someone adds another.
      calendar.afterNextRead = () => calendar.addAttendee(id, 'planted@else.example');
      assert.equal(await executeApproval(context, links, entry), 'waiting');
      assert.deepEqual(calendar.sentFor(id), [], 'nobody was mailed');
      const refused = (await audit.read()).filter((r) => r.action_type === 'calendar_write' && r.result === 'failure');
      assert.ok(refused.some((r) => /changed after the gate decided/.test(String(r.parameters['error']))));
      assert.equal((await audit.read()).filter((r) => r.action_type === 'calendar_write' && r.result === 'intended').length, 0, 'no intent: nothing was written');

      // Run again (the record waits): decided on the event as it is now, held for a human who sees the newcomer.
      assert.equal(await executeApproval(context, links, entry), 'blocked');
      assert.deepEqual(calendar.sentFor(id), []);
      const [held] = pendingBesides(entry.record.id);
      assert.ok(held?.preview.event?.attendees.includes('planted@else.example'));
      assert.ok(held?.record.policyReasons.includes('new_contact'));
    });
  }
});
