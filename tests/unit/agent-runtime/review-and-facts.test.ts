// The agent's state keeps what a waiting send is judged on (the message's facts, the template choice) and
// the review queue with its reasons, across a restart; the daily summary reports unauthenticated known
// senders and free-text opt-ins; the metric for them is bounded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import type { AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import { AgentMetrics } from '../../../agent-image/src/observability/agent-metrics.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { renderSummaryHtml, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { AgentStateStore, type MessageProgress } from '../../../agent-image/src/services/runtime/agent-state-store.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe('the state keeps the facts and the review queue', () => {
  test('facts, template choice and review reasons survive a restart; the queue lists reviews oldest first', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'state-review-'));
    directories.push(directory);
    const keys = KeyRing.single(randomBytes(32));
    const waiting: MessageProgress = {
      stage: 'waiting_send',
      at: '2026-03-02T10:00:00.000Z',
      key: 're-1',
      emailType: 'acknowledgement',
      inbound: { sender: 'bob@example.com', senderAuthenticated: true, authReason: 'dmarc_pass', knownContact: true, injectionSignals: [] },
      template: {
        choice: { type: 'acknowledgement', templateId: 'acknowledgement', slots: { correspondentName: 'Bob' } },
        facts: { originalSubject: 'Invoice 7', nameSources: [null, 'Bob'], freeSlots: [{ start: '2026-03-03T09:00:00.000Z', end: '2026-03-03T10:00:00.000Z' }] },
      },
    };
    const store = await AgentStateStore.open({ directory, keys });
    await store.setProgress('m-wait', waiting);
    await store.setProgress('m-late', { stage: 'review', at: '2026-03-02T12:00:00.000Z', reviewReason: 'low_confidence' });
    await store.setProgress('m-early', { stage: 'review', at: '2026-03-01T08:00:00.000Z', reviewReason: 'malformed_model_output' });
    await store.setProgress('m-old', { stage: 'review', at: '2026-02-01T08:00:00.000Z' });
    await store.setProgress('m-done', { stage: 'done', at: '2026-03-02T12:00:00.000Z' });
    await store.close();

    const reopened = await AgentStateStore.open({ directory, keys });
    try {
      assert.deepEqual(reopened.progress('m-wait'), waiting);
      assert.deepEqual(reopened.inReview(), [
        { messageId: 'm-old', reason: 'unknown', since: '2026-02-01T08:00:00.000Z', retriedFrom: null, sender: null, subject: null },
        { messageId: 'm-early', reason: 'malformed_model_output', since: '2026-03-01T08:00:00.000Z', retriedFrom: null, sender: null, subject: null },
        { messageId: 'm-late', reason: 'low_confidence', since: '2026-03-02T12:00:00.000Z', retriedFrom: null, sender: null, subject: null },
      ]);
    } finally {
      await reopened.close();
    }
  });
});

function record(action_type: string, parameters: AuditRecord['parameters'], result = 'success'): AuditRecord {
  return { seq: 1, timestamp: '2026-03-02T10:00:00.000Z', action_type, actor: 'agent', target: 'm', parameters, approval_status: 'not_required', approved_by: null, result, content_hash: null, prev_hash: '', hash: '' } as unknown as AuditRecord;
}

describe('the daily summary on sender authentication and auto-send', () => {
  const read = (sender: string, authenticated: boolean, known: boolean, extra: AuditRecord['parameters'] = {}) =>
    record('email_read', { no_reply: null, sender, sender_authenticated: authenticated, sender_auth_reason: authenticated ? 'dmarc_pass' : 'dmarc_fail', known_contact: known, injection_signals: [], ...extra });

  test('lists each unauthenticated known-contact sender with count and reasons, and counts steering attempts', () => {
    const records = [
      read('kim@partner.example', false, true),
      read('kim@partner.example', false, true, { sender_auth_reason: 'no_trusted_header' }),
      read('kim@partner.example', true, true, { injection_signals: ['bank_details'] }),
      read('stranger@newco.example', false, false),
      read('list@partner.example', false, true, { no_reply: 'mailing_list' }),
    ];
    const report = buildSummaryReport(records, records, { from: new Date('2026-03-01T18:00:00Z'), to: new Date('2026-03-02T18:00:00Z') });
    assert.deepEqual(report.unauthenticatedKnownSenders, [{ sender: 'kim@partner.example', count: 2, reasons: ['dmarc_fail', 'no_trusted_header'] }]);
    assert.equal(report.injectionSignalMessages, 1);
    const meta = { client: 'acme', displayName: 'Acme', period: 'day' as const, timezone: 'UTC', freeTextOptIns: [{ type: 'follow_up', acceptedBy: 'boss@acme.example', acceptedAt: '2026-03-01T09:00:00Z' }] };
    const text = renderSummaryText(report, meta);
    assert.match(text, /Known contacts whose mail failed sender authentication \(never auto-answered\): 1\n {2}- \u2068kim@partner\.example\u2069: 2 message\(s\) \(\u2068dmarc_fail\u2069, \u2068no_trusted_header\u2069\)/u);
    assert.match(text, /tried to instruct the assistant or change its rules \(never auto-answered\): 1/);
    assert.match(text, /Free-text auto-send is ON for: \u2068follow_up\u2069 .*\n {2}- \u2068follow_up\u2069: accepted by \u2068boss@acme\.example\u2069 on/u);
    const html = renderSummaryHtml(report, meta);
    assert.ok(html.includes('<bdi>kim@partner.example</bdi>: 2 message(s)'));
    assert.ok(html.includes('Free-text auto-send is ON for: <bdi>follow_up</bdi>'));
    assert.doesNotMatch(renderSummaryText(report, { ...meta, freeTextOptIns: [] }), /Free-text auto-send/);
  });
});

describe('the unauthenticated known sender metric', () => {
  test('every reason is exported from the start; an unknown reason is counted as not_aligned; no address in labels', async () => {
    const registry = new Registry();
    const metrics = new AgentMetrics(registry, { client: 'acme', version: '1.0.0' });
    metrics.knownSenderUnauthenticated('dmarc_fail');
    metrics.knownSenderUnauthenticated('kim@partner.example');
    const values = (await registry.getMetricsAsJSON()).find((metric) => metric.name === 'agent_known_sender_unauthenticated_total')?.values ?? [];
    const byReason = Object.fromEntries(values.map((value) => [value.labels['reason'], value.value]));
    assert.deepEqual(byReason, { no_trusted_header: 0, dmarc_fail: 1, dmarc_error: 0, dmarc_other_domain: 0, not_aligned: 1 });
  });
});
