// The text a calendar change sends, decided on before it is sent: an update that adds people sends them the
// event's own text (read from the provider just before the write), and a cancel's message is sent as the
// held approval showed it. Real gate, audit log and stores; an in-memory calendar that holds event text.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Registry } from 'prom-client';
import type {
  CalendarEvent,
  CancelResult,
  EventChanges,
  EventDetails,
  EventEditingCalendar,
  NewEvent,
} from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { NOW, approveHeld, clientConfig, metricValue, openTestRuntime, ownedEvent, putApproved } from './calendar-runtime-fixture.ts';

const PHISHING = 'Slides: https://acme-notes-login.com/deck';

/** A calendar holding one event the owner organised; records what it was asked to write. */
class TextCalendar implements EventEditingCalendar {
  readonly updates: EventChanges[] = [];
  readonly cancels: (string | undefined)[] = [];
  reads = 0;
  /** Runs on every read after the first: the event changing while the gate decides. */
  onLaterRead: ((event: EventDetails) => void) | undefined;

  event: EventDetails;

  constructor(event: EventDetails) {
    this.event = event;
  }

  freeBusy(): Promise<never[]> {
    return Promise.resolve([]);
  }
  createEvent(_event: NewEvent): Promise<CalendarEvent> {
    return Promise.reject(new Error('not used'));
  }
  findEventByIdempotencyKey(): Promise<null> {
    return Promise.resolve(null);
  }
  getEvent(eventId: string): Promise<EventDetails | null> {
    if (++this.reads > 1) this.onLaterRead?.(this.event);
    return Promise.resolve(eventId === this.event.id ? structuredClone(this.event) : null);
  }
  updateEvent(_eventId: string, changes: EventChanges): Promise<CalendarEvent> {
    this.updates.push(changes);
    this.event = { ...this.event, attendees: [...this.event.attendees, ...(changes.addAttendees ?? [])], version: `v${this.updates.length + 1}` };
    return Promise.resolve(this.event);
  }
  cancelEvent(_eventId: string, comment?: string): Promise<CancelResult> {
    this.cancels.push(comment);
    this.event = { ...this.event, cancelled: true };
    return Promise.resolve({ alreadyCancelled: false });
  }
}

function ownEvent(attendees: string[], description: string): EventDetails {
  return ownedEvent({
    id: 'ev-1',
    title: 'Quarterly review',
    start: new Date('2026-06-03T13:00:00Z'),
    end: new Date('2026-06-03T14:00:00Z'),
    attendees,
    content: { description, location: 'Room 4' },
  });
}

describe('calendar changes are decided on the text they send', () => {
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;
  let registry: Registry;
  let counter = 0;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'calendar-sent-text-'));
    const config = clientConfig({
      mailbox: 'agent@acme.example',
      permissions: { 'calendar.read': true, 'calendar.write': true },
      knownContacts: ['kim@partner.example', 'lee@partner.example'],
    });
    ({ context, audit, registry } = await openTestRuntime(directory, config));
  });
  afterEach(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  const linksTo = (calendar: TextCalendar) => ({ mail: null, calendar, crm: null }) as unknown as ActionLinks;
  const approved = (args: Record<string, unknown>, policyReasons: string[] = []) =>
    putApproved(context, args, { id: `ap_${++counter}`, key: `key-${counter}`, policyReasons });
  const pending = () => context.approvals.list(NOW, 'pending');

  test('an update adding a known contact to an event whose own text carries a link is held, showing that text, and runs once approved', async () => {
    const calendar = new TextCalendar(ownEvent(['kim@partner.example'], `Agenda below.\n${PHISHING}`));
    const entry = await approved({ kind: 'calendar.write', operation: 'update', eventId: 'ev-1', participants: ['lee@partner.example'] });
    assert.equal(await executeApproval(context, linksTo(calendar), entry), 'blocked');
    assert.equal(calendar.updates.length, 0, 'nothing sent to the person added');
    const [held] = pending();
    assert.ok(held !== undefined);
    assert.ok(held.record.policyReasons.includes('free_text'));
    assert.ok(held.preview.bodyPreview.includes('acme-notes-login.com'), 'the approver sees the text the invitation carries');
    assert.equal(await executeApproval(context, linksTo(calendar), await approveHeld(context, held)), 'done');
    assert.deepEqual(calendar.updates.map((c) => c.addAttendees), [['lee@partner.example']]);
  });

  test('a reschedule of that event, adding no one, runs without asking, its notices counted for the anomaly alerts', async () => {
    const recipients = await metricValue(registry, 'agent_recipients_total');
    const newDomains = await metricValue(registry, 'agent_new_recipient_domains_total');
    const calendar = new TextCalendar(ownEvent(['kim@partner.example'], `Agenda below.\n${PHISHING}`));
    const entry = await approved({ kind: 'calendar.write', operation: 'update', eventId: 'ev-1', start: '2026-06-03T17:00:00+02:00' });
    assert.equal(await executeApproval(context, linksTo(calendar), entry), 'done');
    assert.equal(calendar.updates.length, 1);
    assert.deepEqual(pending(), []);
    assert.equal((await metricValue(registry, 'agent_recipients_total')) - recipients, 1, 'the one attendee notified');
    assert.equal((await metricValue(registry, 'agent_new_recipient_domains_total')) - newDomains, 0, 'a known domain');
  });

  test('a link written into the event after the gate read it stops the write', async () => {
    const calendar = new TextCalendar(ownEvent(['kim@partner.example'], 'Agenda: budget.'));
    calendar.onLaterRead = (event) => {
      if (event.content !== undefined) event.content.description = `Agenda: budget.\n${PHISHING}`;
    };
    const entry = await approved({ kind: 'calendar.write', operation: 'update', eventId: 'ev-1', participants: ['lee@partner.example'] });
    assert.equal(await executeApproval(context, linksTo(calendar), entry), 'waiting');
    assert.equal(calendar.updates.length, 0);
  });

  test('a held cancel shows its whole message as sent, and no more of it is sent', async () => {
    const message = `${'We have to call this off, sorry. '.repeat(45)}Rebook: ${PHISHING} ${'Thanks. '.repeat(200)}`;
    assert.ok(message.indexOf('acme-notes-login') > 500 && message.length > 2000);
    const calendar = new TextCalendar(ownEvent(['kim@partner.example', 'stranger@else.example'], ''));
    const entry = await approved({ kind: 'calendar.write', operation: 'cancel', eventId: 'ev-1', description: message }, ['free_text', 'deletion']);
    assert.equal(await executeApproval(context, linksTo(calendar), entry), 'blocked', 'a new contact the approver was not shown');
    const [held] = pending();
    assert.ok(held !== undefined);
    assert.ok(held.preview.bodyPreview.includes('acme-notes-login.com'), 'the link past the first 500 characters is shown');
    assert.equal(await executeApproval(context, linksTo(calendar), await approveHeld(context, held)), 'done');
    assert.equal(calendar.cancels.length, 1);
    assert.equal(calendar.cancels[0], held.preview.bodyPreview, 'what is sent is what was shown');
  });
});
