// A flood of forged mail from many known contacts' addresses: the summary groups it per address and shows
// a bounded list that says how many more there are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { LIST_LIMIT, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';

function forgedRead(sender: string, reason: string): AuditRecord {
  return {
    action_type: 'email_read',
    result: 'success',
    actor: 'agent',
    timestamp: '2026-03-02T10:00:00.000Z',
    target: null,
    parameters: { known_contact: true, sender_authenticated: false, sender, sender_auth_reason: reason, no_reply: null },
  } as unknown as AuditRecord;
}

void test('forged mail from thousands of known addresses is grouped per address, in first-seen order, and the list is bounded', () => {
  const senders = Array.from({ length: 3_000 }, (_, index) => `contact${index}@partner.example`);
  const records = [...senders.map((sender) => forgedRead(sender, 'dmarc_fail')), ...senders.map((sender) => forgedRead(sender, 'spf_fail'))];
  const report = buildSummaryReport(records, records, { from: new Date('2026-03-01T18:00:00Z'), to: new Date('2026-03-02T18:00:00Z') });
  assert.equal(report.unauthenticatedKnownSenders.length, senders.length);
  assert.deepEqual(
    report.unauthenticatedKnownSenders.map((entry) => entry.sender),
    senders,
  );
  assert.ok(report.unauthenticatedKnownSenders.every((entry) => entry.count === 2 && entry.reasons.join() === 'dmarc_fail,spf_fail'));
  const text = renderSummaryText(report, { client: 'acme', displayName: 'Acme', period: 'day', timezone: 'UTC' });
  assert.equal(text.split('\n').filter((line) => /^ {2}- \u2068contact\d+@/.test(line)).length, LIST_LIMIT);
  assert.match(text, new RegExp(`and ${(senders.length - LIST_LIMIT).toLocaleString('en-GB')} more senders, in the client portal`));
});
