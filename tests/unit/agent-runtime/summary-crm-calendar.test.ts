import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calendarEventWritten } from '../../../agent-image/src/domain/audit-events-calendar.ts';
import { crmLastContactUpdated, crmNoteOwed, crmNoteWritten } from '../../../agent-image/src/domain/audit-events-crm.ts';
import { chainRecord, type AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { AuditEvent } from '../../../agent-image/src/domain/audit-events.ts';
import { renderSummaryHtml, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';

const person = { entity: 'ClientContact', id: '4711' };

function chain(events: AuditEvent[]): AuditRecord[] {
  let previous: AuditRecord | null = null;
  return events.map((event) => {
    previous = chainRecord({ content_hash: null, ...event, timestamp: '2026-01-07T10:00:00.000Z' }, previous);
    return previous;
  });
}

describe('the daily summary counts CRM updates and calendar events', () => {
  test('notes and last-contact dates that changed the CRM count; intents, failures and unchanged dates do not', () => {
    const note = { provider: 'bullhorn', person, idempotencyKey: 're-1:crm', noteText: 'sent' };
    const at = new Date('2026-01-07T09:00:00Z');
    const event = { operation: 'create' as const, idempotencyKey: 're-2:event', attendees: ['dana@newco.example'], parameters: {} };
    const records = chain([
      crmNoteOwed({ provider: 'bullhorn', recipient: 'kim@partner.example', idempotencyKey: 're-1:crm', result: 'pending' }),
      crmNoteWritten({ ...note, result: 'intended' }),
      crmNoteWritten({ ...note, result: 'failure' }),
      crmNoteWritten({ ...note, result: 'success', noteId: '9', created: true }),
      crmLastContactUpdated({ provider: 'bullhorn', person, at, written: true, result: 'success' }),
      crmLastContactUpdated({ provider: 'bullhorn', person: { entity: 'Candidate', id: '7' }, at, written: false, result: 'success' }),
      calendarEventWritten({ ...event, result: 'intended' }),
      calendarEventWritten({ ...event, result: 'success', eventId: 'ev-1', existing: false }),
      calendarEventWritten({ ...event, result: 'success', eventId: 'ev-1', existing: true }),
    ]);
    const report = buildSummaryReport(records, records, { from: new Date('2026-01-06T18:00:00Z'), to: new Date('2026-01-07T18:00:00Z') });
    assert.equal(report.crmUpdates, 2, 'the note and the date written');
    assert.equal(report.calendarEvents, 1, 'the event found again after a crash is the same event');
    const meta = { client: 'acme', displayName: 'Acme', period: 'day' as const, timezone: 'Europe/London' };
    assert.match(renderSummaryText(report, meta), /^CRM updates: 2$/m);
    assert.match(renderSummaryText(report, meta), /^Calendar events created: 1$/m);
    assert.match(renderSummaryHtml(report, meta), /CRM updates/);
  });
});
