import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { chainRecord, type AuditEntry, type AuditRecord } from '../../../agent-image/src/domain/audit-record.ts';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { renderSummaryHtml, renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { noReplyReason } from '../../../agent-image/src/services/mail-loop/auto-reply-rules.ts';
import { llmCostUsd } from '../../../agent-image/src/services/mail-loop/llm-cost.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { controlTokenMatches } from '../../../agent-image/src/services/runtime/control-token.ts';
import { emptyPolicyState, learnContacts } from '../../../agent-image/src/domain/policy/policy-state.ts';

function message(overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    id: 'm1', threadId: 't1', from: { address: 'a@b.example', name: null }, to: [], cc: [], replyTo: [], authenticationResults: [], subject: 's', date: null,
    messageId: null, inReplyTo: null, references: [], listId: null, autoSubmitted: null, precedence: null, autoReplyHeaders: {},
    idempotencyKey: null, textBody: '', receivedAt: new Date(), labels: [], ...overrides,
  };
}

describe('agent runtime building blocks', () => {
  test('no automatic reply to machine, list, bulk or own mail', () => {
    const own = new Set(['agent@acme.example']);
    assert.equal(noReplyReason(message(), own), null);
    assert.equal(noReplyReason(message({ autoSubmitted: 'auto-replied' }), own), 'auto_submitted');
    assert.equal(noReplyReason(message({ autoSubmitted: 'no' }), own), null);
    assert.equal(noReplyReason(message({ listId: '<l.example>' }), own), 'mailing_list');
    assert.equal(noReplyReason(message({ precedence: 'Bulk' }), own), 'bulk_precedence');
    assert.equal(noReplyReason(message({ from: { address: 'Agent@acme.example', name: null } }), own), 'own_mail');
    // Our idempotency header is not proof of own mail: another agent-fleet client's mail carries one, and anyone can write it.
    assert.equal(noReplyReason(message({ idempotencyKey: 're-x' }), own), null);
    assert.equal(noReplyReason(message({ from: null }), own), 'no_sender');
  });

  test('the control token is compared by its SHA-256', () => {
    const hash = createHash('sha256').update('secret-token').digest('hex');
    assert.equal(controlTokenMatches('secret-token', hash), true);
    assert.equal(controlTokenMatches('secret-tokem', hash), false);
    assert.equal(controlTokenMatches('secret-token', 'not-hex'), false);
  });

  test('model cost is priced per model, unknown models at the highest price', () => {
    assert.equal(llmCostUsd({ model: 'claude-sonnet-4-5', inputTokens: 1_000_000, outputTokens: 0 }), 3);
    assert.equal(llmCostUsd({ model: 'claude-haiku-4-5', inputTokens: 0, outputTokens: 1_000_000 }), 5);
    assert.equal(llmCostUsd({ model: 'mystery', inputTokens: 1_000_000, outputTokens: 0 }), 15);
  });

  test('the state store survives a restart and a torn last write', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'agent-state-'));
    try {
      const keys = KeyRing.single(randomBytes(32));
      const store = await AgentStateStore.open({ directory, keys });
      await store.setPolicy(learnContacts(emptyPolicyState(), ['kim@partner.example']));
      await store.setCursor('gmail', '1234');
      await store.setProgress('m1', { stage: 'drafted', at: new Date().toISOString(), draftId: 'd1', key: 're-1' });
      await store.setPause({ reason: 'rate_limit', since: new Date().toISOString() });
      await store.close();
      await appendFile(join(directory, 'state.log'), 'QUJD'); // a write cut short by a crash
      const reopened = await AgentStateStore.open({ directory, keys });
      assert.ok(reopened.policy.knownContacts.has('kim@partner.example'));
      assert.equal(reopened.cursor('gmail'), '1234');
      assert.equal(reopened.cursor('outlook'), null);
      assert.equal(reopened.progress('m1')?.draftId, 'd1');
      assert.equal(reopened.pause?.reason, 'rate_limit');
      assert.equal(reopened.policy.paused, true);
      await reopened.close();
      await assert.rejects(AgentStateStore.open({ directory, keys: KeyRing.single(randomBytes(32)) }), /authentication|integrity/i);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('the summary counts from audit records and escapes everything in HTML', () => {
    const entries: Omit<AuditEntry, 'timestamp'>[] = [
      { action_type: 'email_read', actor: 'agent', target: 'm1', parameters: {}, approval_status: 'not_required', approved_by: null, result: 'success', content_hash: null },
      { action_type: 'llm_call', actor: 'agent', target: 'm1', parameters: { cost_usd: 0.25, input_tokens: 10, output_tokens: 5 }, approval_status: 'not_required', approved_by: null, result: 'success', content_hash: null },
      { action_type: 'approval_requested', actor: 'agent', target: '<b>x</b>@evil.example', parameters: { approval_id: 'ap_1', subject: '<script>alert(1)</script>', expires_at: '2099-01-01T00:00:00.000Z' }, approval_status: 'pending', approved_by: null, result: 'pending', content_hash: null },
      { action_type: 'approval_requested', actor: 'agent', target: 'y@z.example', parameters: { approval_id: 'ap_2', subject: 'done', expires_at: '2099-01-01T00:00:00.000Z' }, approval_status: 'pending', approved_by: null, result: 'pending', content_hash: null },
      { action_type: 'approval_decided', actor: 'admin:boss', target: 'y@z.example', parameters: { approval_id: 'ap_2' }, approval_status: 'approved', approved_by: 'admin:boss', result: 'success', content_hash: null },
      { action_type: 'policy_denied', actor: 'agent', target: 'q@r.example', parameters: { reasons: ['rate_limit_hour'] }, approval_status: 'denied', approved_by: null, result: 'denied', content_hash: null },
    ];
    let previous: AuditRecord | null = null;
    const records = entries.map((entry) => {
      previous = chainRecord({ ...entry, timestamp: '2026-01-07T10:00:00.000Z' }, previous);
      return previous;
    });
    const report = buildSummaryReport(records, records, { from: new Date('2026-01-06T18:00:00Z'), to: new Date('2026-01-07T18:00:00Z') });
    assert.equal(report.read, 1);
    assert.equal(report.blocked, 1);
    assert.equal(report.llm.costUsd, 0.25);
    assert.deepEqual(report.pendingApprovals.map((entry) => entry.id), ['ap_1']);
    assert.equal(report.anomalies[0]?.kind, 'rate_limit');
    const meta = { client: 'acme', displayName: 'Acme <Ltd>', period: 'day' as const, timezone: 'Europe/London', portalUrl: 'https://portal.example' };
    const html = renderSummaryHtml(report, meta);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&#60;script&#62;'));
    assert.ok(!html.includes('Acme <Ltd>'));
    const text = renderSummaryText(report, meta);
    // Each pending approval links to its page in the client portal (no CLI command a client cannot run).
    assert.match(text, /review and decide: https:\/\/portal\.example\/approvals\/ap_1/);
    assert.ok(html.includes('href="https://portal.example/approvals/ap_1"'));
    assert.doesNotMatch(text + html, /fleet approvals/);
  });
});
