// The agent's settings rules that are pure or run on the audit log: an approval re-checked under newer
// settings, graduation to auto-send, the per-day series, and settings changes flagged in the summary.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createApproval, approve } from '../../../agent-image/src/domain/approval.ts';
import { approvalDecided, approvalRequested, gateRefused, sendRecord } from '../../../agent-image/src/domain/audit-events.ts';
import { GRADUATION_MIN_DECISIONS, graduationRows, type TypeDecisions } from '../../../agent-image/src/domain/graduation.ts';
import { compilePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { approvalDecisionsByType, dailySeries, lastDays } from '../../../agent-image/src/services/daily-summary/dashboards.ts';
import { renderSummaryText } from '../../../agent-image/src/services/daily-summary/render-summary.ts';
import { buildSummaryReport } from '../../../agent-image/src/services/daily-summary/summary-report.ts';
import { config, NOW, send, state } from '../policy/fixtures.ts';

const directories: string[] = [];
after(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe('an approval is re-checked under the settings in force when it runs', () => {
  // A new message, not a reply: the reasons are the settings' alone, none about a message answered.
  const action = send({ to: ['newbie@rival.example'], emailType: 'question', inReplyTo: undefined });
  const parsed = parseProposedAction(action);
  if (!parsed.ok || parsed.action.kind !== 'mail.send') throw new Error('fixture');
  const granted = (reasons: string[]) => {
    const created = createApproval({ id: 'ap-1', actionKind: 'mail.send', arguments: parsed.action, policyReasons: reasons, now: NOW, timeoutHours: 72 });
    assert.ok(created.ok);
    const decided = approve(created.record, { by: 'dana@acme.com', via: 'portal', now: NOW });
    assert.ok(decided.ok);
    return decided.record;
  };

  test('granted under version N, a recipient blocked in N+1 is held again, with every reason shown', () => {
    const approval = granted(['new_contact']);
    assert.equal(compilePolicy(config()).evaluateParsed(parsed.action, state(), NOW, { approval }).decision, 'allow', 'under version N');
    const blocked = compilePolicy(config({ blockList: ['rival.example'] })).evaluateParsed(parsed.action, state(), NOW, { approval });
    assert.equal(blocked.decision, 'needs_approval');
    assert.deepEqual(blocked.reasons, ['blocked_recipient', 'new_contact', 'type_not_auto_send']);
    assert.match(blocked.details?.join(' ') ?? '', /granted before blocked_recipient/);
  });

  test('an approval granted knowing the recipient is blocked still runs', () => {
    const approval = granted(['blocked_recipient', 'new_contact']);
    assert.equal(compilePolicy(config({ blockList: ['rival.example'] })).evaluateParsed(parsed.action, state(), NOW, { approval }).decision, 'allow');
  });

  test('permissions are checked at execution too: mail.send turned off denies an approved send', () => {
    const approval = granted(['new_contact']);
    const off = compilePolicy(config({ permissions: { 'mail.read': true } })).evaluateParsed(parsed.action, state(), NOW, { approval });
    assert.deepEqual([off.decision, off.reasons], ['deny', ['permission_denied']]);
  });
});

describe('graduation to auto-send', () => {
  const row = (type: string, unchanged: number, edited = 0, rejected = 0): TypeDecisions => ({ type, unchanged, edited, rejected, expired: 3 });
  const byType = (rows: ReturnType<typeof graduationRows>) => new Map(rows.map((entry) => [entry.type, entry]));
  const settings: Parameters<typeof graduationRows>[1] = { autoSendTypes: ['acknowledgement'], alwaysApprovalTypes: [] };

  test('suggested at 20 decisions and 95 % unchanged, not at 19 decisions or under 95 %', () => {
    const rows = byType(graduationRows([row('follow_up', 19, 1), row('scheduling_confirmation', 19)], { ...settings, autoSendTypes: [] }));
    assert.equal(rows.get('follow_up')?.decisions, GRADUATION_MIN_DECISIONS);
    assert.equal(rows.get('follow_up')?.suggest, true);
    assert.equal(rows.get('scheduling_confirmation')?.suggest, false, '19 decisions');
    const under = byType(graduationRows([row('follow_up', 18, 1, 1)], { ...settings, autoSendTypes: [] }));
    assert.equal(under.get('follow_up')?.suggest, false, '90 %');
    assert.match(under.get('follow_up')?.why ?? '', /90 % approved unchanged; a suggestion needs 95 %/);
  });

  test('never for the sensitive types, never for types without templates, not again for an auto-sent type', () => {
    const rows = byType(graduationRows([row('offer', 100), row('new_contact', 100), row('question', 100), row('acknowledgement', 100)], settings));
    assert.equal(rows.get('offer')?.suggest, false);
    assert.equal(rows.get('new_contact')?.suggest, false);
    assert.match(rows.get('question')?.why ?? '', /no reply templates/);
    assert.equal(rows.get('acknowledgement')?.autoSend, true);
    assert.equal(rows.get('acknowledgement')?.suggest, false);
  });
});

describe('series and decisions from the audit log', () => {
  async function log(now: Date) {
    const directory = await mkdtemp(join(tmpdir(), 'dashboards-'));
    directories.push(directory);
    let clock = now;
    const audit = await AuditLog.open({ directory, keys: KeyRing.single(randomBytes(32)), now: () => clock });
    const at = async (daysAgo: number, event: Parameters<AuditLog['append']>[0]) => {
      clock = new Date(now.getTime() - daysAgo * 86_400_000);
      await audit.append(event);
      clock = now;
    };
    return { audit, at };
  }
  const authority = { actor: 'agent', approvalStatus: 'auto_approved' as const, approvedBy: 'policy' };

  test('per local day for 30 days: sends, drafts, approvals asked and decided, denials by reason', async () => {
    const now = new Date('2026-03-10T12:00:00.000Z');
    const { audit, at } = await log(now);
    await at(0, sendRecord({ action: 'email_send', authority, recipients: ['a@x.example'], parameters: {}, result: 'success', contentHash: 'a'.repeat(64) }));
    await at(0, sendRecord({ action: 'email_send', authority: { ...authority, actor: 'system' }, recipients: ['admin@x.example'], parameters: {}, result: 'success', contentHash: 'a'.repeat(64) }));
    await at(2, approvalRequested({ to: ['b@x.example'], parameters: { approval_id: 'ap-1', email_type: 'follow_up' } }));
    await at(1, approvalDecided({ by: 'dana@x.example', to: ['b@x.example'], status: 'edited', parameters: { approval_id: 'ap-1' } }));
    await at(1, gateRefused({ action: 'email_send', dryRun: false, target: 'c@x.example', parameters: { reasons: ['permission_denied'] } }));
    await at(45, gateRefused({ action: 'email_send', dryRun: false, target: 'c@x.example', parameters: { reasons: ['rate_limit_hour'] } }));
    const series = await dailySeries(audit, { timezone: 'Europe/London', now, days: 30 });
    assert.equal(series.days.length, 30);
    assert.equal(series.days.at(-1), '2026-03-10');
    assert.deepEqual(series.sent.slice(-3), [0, 0, 1], 'the agent’s own mail (actor system) is not a send of the client');
    assert.deepEqual(series.approvalsRequested.slice(-3), [1, 0, 0]);
    assert.deepEqual(series.approvalsDecided.slice(-3), [0, 1, 0]);
    assert.deepEqual(Object.keys(series.denials), ['permission_denied'], 'older than 30 days is left out');
    assert.deepEqual(await approvalDecisionsByType(audit), [{ type: 'follow_up', unchanged: 0, edited: 1, rejected: 0, expired: 0 }]);
    await audit.close();
  });

  test('the local days follow the client’s zone', () => {
    assert.deepEqual(lastDays(new Date('2026-03-10T23:30:00.000Z'), 'Asia/Tokyo', 2), ['2026-03-10', '2026-03-11']);
  });
});

describe('settings changes in the daily summary', () => {
  test('every version of the day is listed; those past a guard rail are flagged with who and what', () => {
    const record = (version: number, rails: string[]) => ({
      timestamp: '2026-03-10T09:00:00.000Z',
      action_type: 'config_change' as const,
      actor: 'admin:dana@acme.example',
      target: 'client-config',
      parameters: { settings_version: version, guard_rails: rails },
      approval_status: 'not_required' as const,
      approved_by: null,
      result: 'success' as const,
      content_hash: null,
      seq: version,
      prev_hash: '0'.repeat(64),
      hash: '1'.repeat(64),
    });
    const range = { from: new Date('2026-03-10T00:00:00.000Z'), to: new Date('2026-03-11T00:00:00.000Z') };
    const report = buildSummaryReport([record(2, []), record(3, ['rateLimits.perHour'])], [], range);
    assert.deepEqual(report.settingsChanges.map((change) => [change.version, change.guardRails]), [[2, []], [3, ['rateLimits.perHour']]]);
    const text = renderSummaryText(report, { client: 'acme', displayName: 'Acme', period: 'day', timezone: 'UTC' });
    assert.match(text, /Settings changes: 2, of which past a guard rail: 1/);
    assert.match(text, /version 3 by \u2068admin:dana@acme\.example\u2069 on .*: rateLimits\.perHour/u);
  });
});
