// The daily summary lists what waits for approval; a held calendar change or folder move must read as
// what it is, not as an email without a subject.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { renderSummaryHtml, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { auditRecord, summaryMeta, summaryRange } from './summary-records.ts';

function requested(parameters: AuditRecord['parameters'], target: string | null): AuditRecord {
  return auditRecord('approval_requested', { expires_at: '2026-01-09T10:00:00.000Z', ...parameters }, target);
}

void test('held actions other than emails are named by what they do, in both parts; emails still by subject', () => {
  const records = [
    requested({ approval_id: 'ap_cal', kind: 'calendar.write', operation: 'cancel', event_id: 'ev1' }, 'a@partner.example, b@partner.example'),
    requested({ approval_id: 'ap_move', kind: 'mail.move' }, null),
    requested({ approval_id: 'ap_mail', subject: 'Re: prices' }, 'kim@partner.example'),
  ];
  const report = buildSummaryReport(records, records, summaryRange);
  const text = renderSummaryText(report, summaryMeta);
  const html = renderSummaryHtml(report, summaryMeta);
  assert.match(text, /- ap_cal: cancelling a calendar event, notifies \u2068a@partner\.example, b@partner\.example\u2069 \(decide before/u);
  assert.match(text, /- ap_move: moving email to another folder \(decide before/);
  assert.match(text, /- ap_mail: "\u2068Re: prices\u2069" to \u2068kim@partner\.example\u2069 \(decide before/u);
  assert.doesNotMatch(text, /""/, 'no email without a subject stands in for a held action');
  assert.match(html, /<strong>Cancelling a calendar event<\/strong><br>notifies <bdi>a@partner\.example, b@partner\.example<\/bdi>/);
  assert.match(html, /<strong>Moving email to another folder<\/strong><br><span[^>]*>decide before/);
  assert.equal((html.match(/\(no subject\)/g) ?? []).length, 0);
});
