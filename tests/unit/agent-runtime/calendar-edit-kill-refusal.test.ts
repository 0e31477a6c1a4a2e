// An approved cancel whose intent is audited as the admin pulls the kill switch: the calendar the runtime
// hands out refuses the write at the call, the attendees are not notified, and the intent is closed in
// the audit trail as not written (so a later run does not take it for a cancel that got through).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { executeApproval } from '../../../agent-image/src/services/runtime/action-executor.ts';
import type { Connectors } from '../../../agent-image/src/services/runtime/connectors.ts';
import { killGuardedConnectors } from '../../../agent-image/src/services/runtime/kill-guarded-providers.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import type { ActionLinks } from '../../../agent-image/src/services/runtime/send-execution.ts';
import { CALENDAR_READ_WRITE as PERMISSIONS, googleCalendarUnderTest } from '../../helpers/calendar-adapters-under-test.ts';
import { clientConfig, openTestRuntime, putApproved } from './calendar-runtime-fixture.ts';

describe('an approved calendar cancel the kill switch overtakes', () => {
  let directory: string;
  let context: RuntimeContext;
  let audit: AuditLog;
  let under: Awaited<ReturnType<typeof googleCalendarUnderTest>>;

  before(async () => {
    under = await googleCalendarUnderTest();
    directory = await mkdtemp(join(tmpdir(), 'calendar-edit-kill-'));
    const config = clientConfig({ mailbox: 'agent@acme.example', permissions: PERMISSIONS, knownContacts: ['kim@partner.example'] });
    ({ context, audit } = await openTestRuntime(directory, config));
  });
  after(async () => {
    await under.emulator.stop();
    await audit.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('is not written, and its intent is closed as not written', async () => {
    const at = (time: string) => new Date(`2026-06-03T${time}:00Z`);
    const event = await under.calendar.createEvent({ title: 'Intro', start: at('13:00'), end: at('13:30'), timeZone: 'Europe/Berlin', attendees: ['kim@partner.example'], idempotencyKey: 'kill-cancel' });
    const { calendar } = killGuardedConnectors({ providerKind: 'gmail', provider: {} as Connectors['provider'], llm: {} as Connectors['llm'], calendar: under.calendar, crm: null }, context.kill);
    const killing: RuntimeContext = {
      ...context,
      audit: {
        records: (...args: Parameters<AuditLog['records']>) => audit.records(...args),
        append: async (...args: Parameters<AuditLog['append']>) => {
          const appended = await audit.append(...args);
          // The admin pulls the switch as the intent is written.
          if (args[0].result === 'intended') context.kill.latch();
          return appended;
        },
      } as unknown as AuditLog,
    };
    const entry = await putApproved(context, { kind: 'calendar.write', operation: 'cancel', eventId: event.id, description: 'Sorry, cancelled.' }, { id: 'ap_kill', key: 'edit-kill' });
    const links = { mail: null, calendar, crm: null } as unknown as ActionLinks;
    await assert.rejects(executeApproval(killing, links, entry), (error: unknown) => error instanceof FleetError && error.code === 'killed');
    assert.deepEqual(under.emulator.calendar.changes().filter((change) => change.id === event.id), [], 'nobody was notified of a cancel');
    assert.equal((await under.calendar.getEvent(event.id))?.cancelled, false);
    const writes = (await audit.read()).filter((record) => record.action_type === 'calendar_write' && record.parameters['idempotency_key'] === 'edit-kill');
    assert.deepEqual(writes.map((record) => [record.result, record.parameters['not_written'] ?? null]), [
      ['intended', null],
      ['failure', true],
    ]);
  });
});
