import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientConfig } from '@agent-fleet/kernel/client-config';
import type { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { DailySummary } from '../../../agent-image/src/services/daily-summary/daily-summary.ts';
import type { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';

interface Sent {
  subject: string;
  text: string;
  html: string | null;
}

function summaryWith(pause: { reason: 'auth' | 'rate_limit'; since: string; detail?: string } | null): { summary: DailySummary; sent: Sent[] } {
  const sent: Sent[] = [];
  const config = {
    client: 'acme',
    displayName: 'Acme',
    timezone: 'Europe/London',
    approvalTimeoutHours: 24,
    admins: ['boss@acme.example'],
    blockList: [],
    autoReply: { freeTextAutoSend: [] },
  } as unknown as ClientConfig;
  const audit = { async *records() {} } as unknown as AuditLog;
  const notifier = {
    notify: async (_kind: string, _key: string, subject: string, text: string, html: string | null) => {
      sent.push({ subject, text, html });
      return 'sent';
    },
    alreadyInOutbox: () => false,
  } as unknown as AdminNotifier;
  const logger = { error() {}, warn() {}, info() {}, debug() {}, child: () => logger } as never;
  const summary = new DailySummary({ config, audit, notifier, logger, now: () => new Date('2026-12-07T08:00:00Z'), pauseState: () => pause });
  return { summary, sent };
}

describe('the daily summary states whether the assistant is paused', () => {
  test('a pause older than the period, with no anomaly in it, is in the subject and both parts', async () => {
    const { summary, sent } = summaryWith({ reason: 'auth', since: '2026-12-01T09:00:00Z', detail: 'token revoked, see https://evil.example/fix' });
    await summary.send('day');
    const [mail] = sent;
    assert.ok(mail);
    assert.match(mail.subject, /^PAUSED: Daily summary/);
    assert.match(mail.text, /Assistant: PAUSED since 1 Dec 2026, 09:00 \(auth: \u2068token revoked/u);
    assert.match(mail.text, /nothing is read, drafted or sent until it is resumed/);
    assert.match(mail.text, /Anomalies and pauses: 0/);
    assert.ok(mail.html?.includes('PAUSED since'));
    assert.ok(!mail.text.includes('https://evil.example') && !(mail.html ?? '').includes('evil.example'), 'the detail is quoted with its links off');
  });

  test('a working assistant says so, and its subject does not alarm', async () => {
    const { summary, sent } = summaryWith(null);
    await summary.send('day');
    assert.match(sent[0]?.text ?? '', /Assistant: working \(not paused\)/);
    assert.match(sent[0]?.subject ?? '', /^Daily summary for \u2068Acme\u2069:/u);
  });
});
