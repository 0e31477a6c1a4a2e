import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { redactLogLine } from '../../../orchestrator/src/services/incidents/evidence-parts.ts';
import { inOpsLogSlice } from '../../../orchestrator/src/services/incidents/evidence-ops-log.ts';
import { incidentClocks } from '../../../orchestrator/src/services/incidents/incident-clocks.ts';
import { auditEventsFrom, buildTimeline, type ReportModel } from '../../../orchestrator/src/services/incidents/report-model.ts';
import { mdText, renderReportHtml, renderReportMarkdown } from '../../../orchestrator/src/services/incidents/report-render.ts';
import { at, incident } from './incident-fixture.ts';

let seq = 0;
function entry(hours: number, action: string, clientId: string | null, details: Record<string, unknown> = {}, reason: string | null = null): OpsLogEntry {
  seq += 1;
  return { seq, at: at(hours).toISOString(), actor: 'ops@host', action, clientId, reason, outcome: 'success', details, prevHash: 'p', hash: `h${seq}` };
}

const HOSTILE = '<script>alert(1)</script> [click](https://evil.example) | **bold** & <img src=x onerror=alert(2)>';

function model(overrides: Partial<ReportModel> = {}): ReportModel {
  const record = incident({ summary: HOSTILE, rootCause: HOSTILE, status: 'closed', closedAt: at(5).toISOString(), lessons: 'rotate\nmonthly' });
  return {
    incident: record,
    clocks: incidentClocks(record, at(6), { timeZone: 'UTC' }),
    timeline: [{ at: at(0).toISOString(), source: 'ops-log', actor: 'ops@host', what: HOSTILE, outcome: 'success' }],
    auditSources: [{ clientId: 'acme', note: 'from the bundle' }],
    grants: [],
    generatedAt: at(6).toISOString(),
    final: true,
    incidentText: 'shown',
    ...overrides,
  };
}

describe('the post-incident report', () => {
  test('HTML: every text from people or systems is escaped, no element or attribute can be injected', () => {
    const html = renderReportHtml(model());
    assert.doesNotMatch(html, /<script>|<img|onerror=alert\(2\)>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=alert\(2\)&gt;/);
    assert.equal((html.match(/<script/g) ?? []).length, 0);
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<h2>Lessons learned<\/h2>\n<p>rotate\nmonthly<\/p>/);
  });

  test('Markdown: text cannot become a link, emphasis, a table cell or raw HTML', () => {
    const markdown = renderReportMarkdown(model());
    assert.doesNotMatch(markdown, /<script>|\[click\]\(|\*\*bold\*\*/);
    assert.ok(markdown.includes(mdText(HOSTILE)));
    assert.equal(mdText('a | b'), 'a \\| b');
    assert.equal(mdText('line one\nline two'), 'line one line two');
    assert.equal(mdText('# not a heading #1'), '\\# not a heading #1');
    const summaryRow = markdown.split('\n').find((line) => line.startsWith('| Summary |'));
    assert.equal(summaryRow?.split(/(?<!\\)\|/).length, 4, 'the summary row keeps its two cells');
    assert.match(markdown, /^# Post-incident report INC-1\n\nFinal report, generated /);
  });

  test('a report of an open incident says it is a draft', () => {
    const open = incident();
    const markdown = renderReportMarkdown(model({ incident: open, final: false, clocks: incidentClocks(open, at(1), { timeZone: 'UTC' }) }));
    assert.match(markdown, /DRAFT, generated .*the incident is not closed/);
    assert.match(markdown, /## Root cause\n\nNot yet determined/);
  });

  test('the timeline holds the incident’s entries, other actions on its clients in the window, and audit events, oldest first', () => {
    const record = incident({ closedAt: at(10).toISOString(), status: 'closed' });
    const ops = [
      entry(-30, 'provision', 'acme'), // before the look-back window
      entry(-2, 'rotate-credentials', 'acme', {}, 'monthly'),
      entry(0, 'incident-open', 'acme', { incident: 'INC-1', severity: 'critical' }, 'unexpected sends'),
      entry(1, 'kill', 'beta', {}, 'other client'),
      entry(2, 'incident-contain', 'acme', { incident: 'INC-1', step: 'kill', detail: 'killed' }, 'INC-1: x'),
      entry(12, 'revive', 'acme', {}, 'after the incident'),
    ];
    const audit = auditEventsFrom(
      'acme',
      [
        JSON.stringify({ seq: 7, timestamp: at(0.5).toISOString(), action_type: 'email_sent', actor: 'agent', target: 'secret@client.example', result: 'success' }),
        'not json',
        JSON.stringify({ seq: 8, timestamp: at(20).toISOString(), action_type: 'email_sent', actor: 'agent', result: 'success' }),
      ].join('\n'),
    );
    const timeline = buildTimeline(record, ops, audit, at(30));
    assert.deepEqual(
      timeline.map((e) => [e.source, e.what]),
      [
        ['ops-log', 'rotate-credentials: monthly'],
        ['ops-log', 'Incident opened (critical): unexpected sends'],
        ['audit:acme', 'email_sent (audit #7)'],
        ['ops-log', 'Containment, kill: killed'],
      ],
    );
    assert.doesNotMatch(JSON.stringify(timeline), /secret@client\.example/, 'audit targets stay out of the report');
  });
});

describe('evidence helpers', () => {
  test('agent log lines keep their time and shape, with secrets and content masked', () => {
    const line = redactLogLine('2026-12-02T10:00:00.000000001Z {"level":"info","message":"sent with sk-ant-abcdefghijklmnop","body":"Dear Bob","token":"x","client":"acme"}');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.equal(parsed['logged_at'], '2026-12-02T10:00:00.000000001Z');
    assert.equal(parsed['client'], 'acme');
    assert.equal(parsed['body'], '[redacted]');
    assert.equal(parsed['token'], '[redacted]');
    assert.doesNotMatch(line, /sk-ant-abcdefghijklmnop|Dear Bob/);
    assert.deepEqual(JSON.parse(redactLogLine('2026-12-02T10:00:00Z plain text Bearer abcdefghijkl')), { logged_at: '2026-12-02T10:00:00Z', text: 'plain text [redacted]' });
  });

  test('the ops-log slice holds the client’s entries and the incident’s, nothing of other clients', () => {
    const entries = [
      entry(0, 'kill', 'acme'),
      entry(1, 'kill', 'beta'),
      entry(2, 'incident-open', null, { incident: 'INC-1' }),
      entry(3, 'incident-open', null, { incident: 'INC-2' }),
      entry(4, 'incident-notify', 'beta', { incident: 'INC-1', recipient: 'someone at beta' }),
    ];
    assert.deepEqual(entries.filter((e) => inOpsLogSlice(e, 'acme', 'INC-1')).map((e) => e.seq), [entries[0]?.seq, entries[2]?.seq]);
  });
});
