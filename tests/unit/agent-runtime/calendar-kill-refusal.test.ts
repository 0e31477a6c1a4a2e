// A calendar event whose intent is audited as the admin pulls the kill switch is not created: the
// calendar the runtime hands out refuses the write at the call, and the intent gets its outcome in the
// audit trail (a failure naming the kill), so the trail does not leave an invitation that may have gone.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { CalendarEvent, CalendarProvider, NewEvent } from '../../../agent-image/src/ports/calendar-provider.ts';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { createEventOnce } from '../../../agent-image/src/services/runtime/calendar-writes.ts';
import type { Connectors } from '../../../agent-image/src/services/runtime/connectors.ts';
import { killGuardedConnectors } from '../../../agent-image/src/services/runtime/kill-guarded-providers.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { clientConfig, openTestRuntime } from './calendar-runtime-fixture.ts';

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

describe('a calendar write the kill switch overtakes', () => {
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'calendar-kill-refusal-'));
    const config = clientConfig({ mailbox: 'agent@acme.example', permissions: { 'calendar.read': true, 'calendar.write': true } });
    ({ context, audit } = await openTestRuntime(directory, config));
  });
  afterEach(async () => {
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('a kill landing while the intent is audited: no event, no invitation, and the intent is closed as refused', async () => {
    const raw = new CreatingCalendar();
    const { calendar } = killGuardedConnectors({ providerKind: 'gmail', provider: {} as Connectors['provider'], llm: {} as Connectors['llm'], calendar: raw, crm: null }, context.kill);
    // The admin pulls the switch while the intent record is written (an fsync).
    const killing: RuntimeContext = {
      ...context,
      audit: {
        append: async (...args: Parameters<AuditLog['append']>) => {
          const appended = await audit.append(...args);
          context.kill.latch();
          return appended;
        },
      } as unknown as AuditLog,
    };
    const action = {
      kind: 'calendar.write' as const,
      operation: 'create' as const,
      title: 'Planning',
      start: '2026-06-03T10:00:00+02:00',
      end: '2026-06-03T11:00:00+02:00',
      participants: ['kim@partner.example'],
    };
    await assert.rejects(
      createEventOnce({ context: killing, calendar, action, key: 'key-kill-1', authority: { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' }, parameters: {} }),
      (error: unknown) => error instanceof FleetError && error.code === 'killed',
    );
    assert.equal(raw.created.length, 0, 'no event was created after the kill');
    const records = (await audit.read()).filter((record) => record.action_type === 'calendar_write');
    assert.deepEqual(records.map((record) => record.result), ['intended', 'failure']);
    assert.match(String(records[1]?.parameters['error']), /kill switch/);
  });
});
