// A calendar event whose intent is audited as the admin pulls the kill switch is not created: the
// calendar the runtime hands out refuses the write at the call, and the intent gets its outcome in the
// audit trail (a failure naming the kill), so the trail does not leave an invitation that may have gone.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { createEventOnce } from '../../../agent-image/src/services/runtime/calendar-writes.ts';
import type { Connectors } from '../../../agent-image/src/services/runtime/connectors.ts';
import { killGuardedConnectors } from '../../../agent-image/src/services/runtime/kill-guarded-providers.ts';
import type { RuntimeContext } from '../../../agent-image/src/services/runtime/runtime-context.ts';
import { calendarWriterPerTest, CreatingCalendar, planningEvent } from './calendar-writer-bed.ts';

describe('a calendar write the kill switch overtakes', () => {
  const runtime = calendarWriterPerTest('calendar-kill-refusal');

  test('a kill landing while the intent is audited: no event, no invitation, and the intent is closed as refused', async () => {
    const { context, audit } = runtime;
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
    const action = planningEvent(['kim@partner.example']);
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
