// The invitations an event the agent creates sends are outbound mail: the anomaly alerts (MassSending)
// read them from agent_recipients_total like the recipients of an email.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEventOnce } from '../../../agent-image/src/services/runtime/calendar-writes.ts';
import { metricValue } from './calendar-runtime-fixture.ts';
import { calendarWriterPerTest, CreatingCalendar, planningEvent } from './calendar-writer-bed.ts';

describe('calendar invitations in the sending metrics', () => {
  const runtime = calendarWriterPerTest('calendar-invitation-metrics');

  test('an event created with three attendees counts three recipients reached, once', async () => {
    const { context, registry } = runtime;
    const before = await metricValue(registry, 'agent_recipients_total');
    const calendar = new CreatingCalendar();
    const action = planningEvent(['kim@partner.example', 'lee@partner.example', 'max@other.example']);
    const outcome = await createEventOnce({ context, calendar, action, key: 'key-create-1', authority: { actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' }, parameters: {} });
    assert.equal(outcome, 'done');
    assert.equal(calendar.created.length, 1);
    assert.equal((await metricValue(registry, 'agent_recipients_total')) - before, 3);
  });
});
