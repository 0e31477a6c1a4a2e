// The one-tap approval-notice limits across orchestrator restarts: they count from the ops log, so a
// restart loop cannot start them afresh and mail a client's admins past them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { APPROVAL_NOTICE_ACTION, APPROVAL_NOTICE_RESULT_ACTION, ApprovalNoticeService } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog } from './client-mail-ops-log.ts';

const HOUR = 3_600_000;

void test('a restarted orchestrator keeps to the hour and day limits of the notices mailed before it restarted', async () => {
  let now = new Date('2026-01-07T10:00:00Z');
  const clock = { now: () => now };
  const opsLog = memoryOpsLog(clock.now);
  const flood = Array.from({ length: 500 }, (_, index) => ({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' }));
  const mailed: string[] = [];
  const links: string[] = [];
  // Each start is a new service over the same registry, as after a crash or a redeploy.
  const start = () =>
    new ApprovalNoticeService({
      registry: opsLog,
      agents: { listApprovals: async () => ({ approvals: flood }) } as never,
      views: {
        notice: async (_client: string, notice: { approvalId: string; url: string }) => {
          mailed.push(notice.approvalId);
          links.push(notice.url);
          return 'sent' as const;
        },
      } as never,
      approvalLink: (_client, id) => `https://portal.example/a/${id}.signed`,
      logger: createSilentLogger(),
      clock,
      limits: { perHour: 5, perDay: 8 },
    });

  assert.equal(await start().announceNew('acme'), 5);
  for (let restart = 0; restart < 10; restart++) {
    now = new Date(now.getTime() + 60_000);
    assert.equal(await start().announceNew('acme'), 0, 'the hour is used up, restart or not');
  }
  now = new Date(now.getTime() + HOUR);
  assert.equal(await start().announceNew('acme'), 3, 'the day is used up at 8, restart or not');
  now = new Date(now.getTime() + HOUR);
  assert.equal(await start().announceNew('acme'), 0);
  assert.equal(mailed.length, 8);

  const reserved = opsLog.entries.filter((entry) => entry.action === APPROVAL_NOTICE_ACTION);
  const recorded = opsLog.entries.filter((entry) => entry.action === APPROVAL_NOTICE_RESULT_ACTION);
  assert.equal(reserved.length, 8, 'each notice was reserved before it was mailed, and none past the limits');
  assert.equal(recorded.length, 8, 'each notice mailed is on record');
  assert.ok(recorded.every((entry) => entry.clientId === 'acme' && entry.outcome === 'success'));
  const logged = JSON.stringify(opsLog.entries);
  assert.ok(links.every((link) => !logged.includes(link)), 'the signed links are not in the ops log');

  now = new Date(now.getTime() + 24 * HOUR);
  assert.equal(await start().announceNew('acme'), 5, 'a day later the next ones follow');
});

void test('notices of another client, and notices the agent skipped, do not use up a client\'s limits', async () => {
  const now = new Date('2026-01-07T10:00:00Z');
  const opsLog = memoryOpsLog(() => now);
  const approvals = Array.from({ length: 20 }, (_, index) => ({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' }));
  const start = (outcome: 'sent' | 'skipped') =>
    new ApprovalNoticeService({
      registry: opsLog,
      agents: { listApprovals: async () => ({ approvals }) } as never,
      views: { notice: async () => outcome } as never,
      approvalLink: (_client, id) => `https://portal.example/a/${id}`,
      logger: createSilentLogger(),
      clock: { now: () => now },
      limits: { perHour: 5, perDay: 8 },
    });
  assert.equal(await start('sent').announceNew('globex'), 5);
  assert.equal(await start('skipped').announceNew('acme'), 20, 'skipped ones (dry run) are not limited and not recorded');
  assert.equal(await start('sent').announceNew('acme'), 5, 'globex used up only its own limit');
});
