// On the night the clocks fall back, 01:30 happens twice: the summary names the zone of such a time
// (BST or GMT, GMT-4 or GMT-5) so that the admins can tell the two apart, and leaves other times plain.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import {
  renderSummaryHtml,
  renderSummaryText,
  type SummaryMeta,
} from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { SummaryTally } from '../../../agent-image/src/services/daily-summary/summary-report.ts';

function reportWithPausesAt(instants: string[], range: { from: string; to: string }) {
  const tally = new SummaryTally({ from: new Date(range.from), to: new Date(range.to) });
  instants.forEach((timestamp, index) => {
    tally.addPeriodRecord({
      action_type: 'pause',
      timestamp,
      actor: 'system',
      result: 'success',
      target: null,
      parameters: { reason: `pause number ${index + 1}` },
    } as unknown as AuditRecord);
  });
  return tally.finish();
}

const meta = (timezone: string): SummaryMeta => ({
  client: 'acme',
  displayName: 'Acme',
  period: 'day',
  timezone,
});

function anomalyLines(text: string): string[] {
  return text.split('\n').filter((line) => line.includes('pause number'));
}

void test('the two 01:30s of a fall-back night read differently in New York', () => {
  const report = reportWithPausesAt(
    ['2026-11-01T05:30:00.000Z', '2026-11-01T06:30:00.000Z', '2026-11-01T08:30:00.000Z'],
    {
      from: '2026-10-31T12:00:00.000Z',
      to: '2026-11-01T13:00:00.000Z',
    },
  );
  const lines = anomalyLines(renderSummaryText(report, meta('America/New_York')));
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /01:30 GMT-4 pause: \u2068pause number 1\u2069/u);
  assert.match(lines[1] ?? '', /01:30 GMT-5 pause: \u2068pause number 2\u2069/u);
  assert.match(lines[2] ?? '', /03:30 pause: \u2068pause number 3\u2069/u);
  assert.doesNotMatch(lines[2] ?? '', /GMT/, 'a time that happens once stays plain');
  const html = renderSummaryHtml(report, meta('America/New_York'));
  assert.match(html, /01:30 GMT-4 pause: <bdi>pause number 1<\/bdi>/);
  assert.match(html, /01:30 GMT-5 pause: <bdi>pause number 2<\/bdi>/);
});

void test('the two 01:30s of a fall-back night read differently in London', () => {
  const report = reportWithPausesAt(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z'], {
    from: '2026-10-24T07:00:00.000Z',
    to: '2026-10-25T08:00:00.000Z',
  });
  const lines = anomalyLines(renderSummaryText(report, meta('Europe/London')));
  assert.notEqual(lines[0]?.replace(/pause number \d/, ''), lines[1]?.replace(/pause number \d/, ''));
  assert.match(lines[0] ?? '', /01:30 BST/);
  assert.match(lines[1] ?? '', /01:30 GMT/);
});
