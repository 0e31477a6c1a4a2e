// An update or cancel of an event notifies every attendee the calendar lists, not only those it names:
// before it runs, the gate decides again with all of them as recipients (block list, new contacts, bulk,
// send limits), an approval covers only the attendees its approver was shown, and what the gate holds
// waits for a human as a new approval that shows everyone who will be notified. Real gate, audit log,
// stores and kill switch; an in-test calendar that records what it was asked to send.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { parseClientConfig, type ClientConfigInput } from '@agent-fleet/kernel/client-config';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { approve, createApproval } from '../../../agent-image/src/domain/approval.ts';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { learnContacts } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import type { CalendarEvent, CancelResult, EventChanges, EventDetails, EventEditingCalendar, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { ApprovalStore, type StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { fixedSettings } from '../../../agent-image/src/services/settings/settings-source.ts';

const NOW = new Date('2026-06-01T08:00:00Z');
const OWNER = 'me@acme.example';
const KNOWN = ['kim@partner.example', 'lou@partner.example', 'max@partner.example'];

/** A primary calendar of events the owner organised; each update or cancel notifies every attendee. */
class NotifyingCalendar implements EventEditingCalendar {
  readonly events = new Map<string, EventDetails>();
  /** Each notice the provider would have sent: which change, to whom. */
  readonly notices: { id: string; operation: 'update' | 'cancel'; to: string[] }[] = [];

  add(id: string, attendees: string[]): string {
    this.events.set(id, { id, title: 'Planted', start: new Date('2026-06-03T10:00:00Z'), end: new Date('2026-06-03T11:00:00Z'), attendees, idempotencyKey: null, organizedByOwner: true, cancelled: false });
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
  async getEvent(eventId: string): Promise<EventDetails | null> {
    const event = this.events.get(eventId);
    return event === undefined ? null : structuredClone(event);
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
    const parsed = parseClientConfig({
      client: 'acme',
      mailbox: OWNER,
      timezone: 'Europe/Berlin',
      onboarding: { startedAt: '2026-01-01T00:00:00Z', days: 28 },
      permissions: { 'calendar.read': true, 'calendar.write': true },
      knownContacts: KNOWN,
      blockList: ['rival.example'],
      ...overrides,
    });
    if (!parsed.ok) throw new Error(parsed.issues.join('; '));
    const config = parsed.config;
    const run = join(directory, String(++counter));
    const keys = KeyRing.single(randomBytes(32));
    audit = await AuditLog.open({ directory: join(run, 'audit'), keys, now: () => NOW });
    const state = await AgentStateStore.open({ directory: join(run, 'state'), keys, now: () => NOW });
    const approvals = await ApprovalStore.open({ directory: join(run, 'state'), keys, now: () => NOW });
    const kill = new KillSwitch(join(run, 'KILLED'));
    paused = [];
    const partial = {
      config,
      gate: compilePolicy(config),
      settings: fixedSettings(config),
      state,
      approvals,
      audit,
      kill,
      metrics: new AgentMetrics(new Registry(), { client: 'acme', version: '1.0.0' }),
      logger: createSilentLogger(),
      now: () => NOW,
      policyState: () => ({ ...state.policy, killed: kill.killed }),
      receipts: () => null,
      pause: async (reason: string) => {
        paused.push(reason);
        await state.setPolicy({ ...state.policy, paused: true });
      },
    };
    context = partial as unknown as RuntimeContext;
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
  async function approved(args: Record<string, unknown>): Promise<StoredApproval> {
    const parsed = parseProposedAction({ kind: 'calendar.write', ...args });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const created = createApproval({ id: `ap_${++counter}`, actionKind: 'calendar.write', arguments: parsed.action, policyReasons: args['operation'] === 'cancel' ? ['deletion'] : [], now: NOW, timeoutHours: 72 });
    assert.ok(created.ok);
    const decided = approve(created.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
    assert.ok(decided.ok);
    const entry: StoredApproval = {
      record: decided.record,
      idempotencyKey: `edit-${counter}`,
      messageId: null,
      draftId: null,
      preview: { to: [], cc: [], subject: '', bodyPreview: '', emailType: null },
      execution: 'waiting',
    };
    await context.approvals.put(entry);
    return entry;
  }

  /** The approvals waiting for a human, except `besides`. */
  const pendingBesides = (besides: string) => context.approvals.list(NOW, 'pending').filter((entry) => entry.record.id !== besides);

  async function approveHeld(held: StoredApproval): Promise<StoredApproval> {
    const decided = approve(held.record, { by: 'boss', via: 'orchestrator-api', now: NOW });
    assert.ok(decided.ok);
    const entry: StoredApproval = { ...held, record: decided.record, execution: 'waiting' };
    await context.approvals.put(entry);
    return entry;
  }

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
    assert.equal(await executeApproval(context, links, await approveHeld(again)), 'done');
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
    assert.equal(await executeApproval(context, links, await approveHeld(held)), 'done');
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
    const approvedHeld = await approveHeld(held);
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
});
