// The invitations an event the agent creates sends are outbound mail: the anomaly alerts (MassSending)
// read them from agent_recipients_total like the recipients of an email.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Registry } from 'prom-client';
import type { CalendarEvent, CalendarProvider, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { createEventOnce } from '../../../agent-image/src/services/runtime/calendar-writes.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { clientConfig, metricValue, openTestRuntime } from './calendar-runtime-fixture.ts';

class CreatingCalendar implements CalendarProvider {
  readonly created: NewEvent[] = [];
  freeBusy(): Promise<never[]> {
    return Promise.resolve([]);
  }
  createEvent(event: NewEvent): Promise<CalendarEvent> {
    this.created.push(event);
    return Promise.resolve({ id: `ev-${this.created.length}`, title: event.title, start: event.start, end: event.end, attendees: [...event.attendees], idempotencyKey: event.idempotencyKey });
  }
  findEventByIdempotencyKey(): Promise<null> {
    return Promise.resolve(null);
  }
}

describe('calendar invitations in the sending metrics', () => {
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;
  let registry: Registry;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'calendar-invitation-metrics-'));
    const config = clientConfig({ mailbox: 'agent@acme.example', permissions: { 'calendar.read': true, 'calendar.write': true } });
    ({ context, audit, registry } = await openTestRuntime(directory, config));
  });
  afterEach(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('an event created with three attendees counts three recipients reached, once', async () => {
    const before = await metricValue(registry, 'agent_recipients_total');
    const calendar = new CreatingCalendar();
    const action = {
      kind: 'calendar.write' as const,
      operation: 'create' as const,
      title: 'Planning',
      start: '2026-06-03T10:00:00+02:00',
      end: '2026-06-03T11:00:00+02:00',
      participants: ['kim@partner.example', 'lee@partner.example', 'max@other.example'],
    };
    const outcome = await createEventOnce({ context, calendar, action, key: 'key-create-1', authority: { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' }, parameters: {} });
    assert.equal(outcome, 'done');
    assert.equal(calendar.created.length, 1);
    assert.equal((await metricValue(registry, 'agent_recipients_total')) - before, 3);
  });
});
