// A flood day (hundreds of thousands of expired approvals or rate-limit hits) kept one entry per record in
// the report object that the summary, the portal's summary page and the control API hold: 73 MB at 300,000
// each. The report keeps the first entries of those lists and counts every one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { LIST_LIMIT, renderSummaryHtml, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport, REPORT_LIST_LIMIT } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { auditRecord, summaryMeta, summaryRange } from './summary-records.ts';

const FLOOD = 20_000;
// More kinds of anomaly than a report keeps groups of.
const DISTINCT_PAUSES = 300;

function floodRecords(): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (let index = 0; index < FLOOD; index++) {
    records.push(auditRecord('approval_expired', { approval_id: `ap_${index}` }));
    records.push(auditRecord('policy_denied', { reasons: [index % 2 === 0 ? 'rate_limit_hour' : 'rate_limit_day'] }));
  }
  for (let index = 0; index < DISTINCT_PAUSES; index++) records.push(auditRecord('pause', { reason: `reason ${index}` }));
  return records;
}

const records = floodRecords();
const report = buildSummaryReport(records, records, summaryRange);

void test('the report keeps the first entries of a flood and counts them all', () => {
  assert.equal(report.expiredApprovalsTotal, FLOOD);
  assert.equal(report.expiredApprovals.length, REPORT_LIST_LIMIT);
  assert.deepEqual(report.expiredApprovals.map((entry) => entry.id), Array.from({ length: REPORT_LIST_LIMIT }, (_, index) => `ap_${index}`), 'the first ones');
  assert.equal(report.anomaliesTotal, FLOOD + DISTINCT_PAUSES);
  assert.equal(report.anomalies.length, REPORT_LIST_LIMIT);
  assert.equal(report.anomalyGroups.length, REPORT_LIST_LIMIT);
  assert.deepEqual(
    report.anomalyGroups.slice(0, 2).map((group) => [group.kind, group.detail, group.count]),
    [['rate_limit', 'rate_limit_hour', FLOOD / 2], ['rate_limit', 'rate_limit_day', FLOOD / 2]],
    'a group kept counts every anomaly of it',
  );
  assert.equal(report.blocked, FLOOD, 'the other counts are untouched');
  assert.ok(JSON.stringify(report).length < 50_000, `the report is ${JSON.stringify(report).length} characters`);
});

void test('the summary states the totals and counts what it leaves out, adding up to them', () => {
  const text = renderSummaryText(report, summaryMeta);
  const html = renderSummaryHtml(report, summaryMeta);
  assert.match(text, new RegExp(`Expired approvals \\(never sent\\): ${FLOOD}\\n`));
  assert.match(text, new RegExp(`- and ${(FLOOD - LIST_LIMIT).toLocaleString('en-GB')} more, in the client portal's audit log`));
  assert.match(html, new RegExp(`Expired approvals \\(${FLOOD}\\)`));
  assert.match(text, new RegExp(`Anomalies and pauses: ${FLOOD + DISTINCT_PAUSES}\\n`));
  assert.match(text, /rate_limit: \u2068rate_limit_hour\u2069: 10,000 times/u);
  const listedPauses = LIST_LIMIT - 2;
  const left = FLOOD + DISTINCT_PAUSES - FLOOD - listedPauses;
  assert.match(text, new RegExp(`Anomalies and pauses: [\\d]+\\n(?:  - .*\\n){${LIST_LIMIT}}  - and ${left.toLocaleString('en-GB')} more, in the client portal's audit log\\n`, 'u'));
  assert.match(html, new RegExp(`Anomalies and pauses \\(${FLOOD + DISTINCT_PAUSES}\\)`));
});
