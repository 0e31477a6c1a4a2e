// Under the notice limits, which approvals are mailed first: a stranger who keeps causing new approvals
// must not keep an older one (a real customer's, perhaps) unmailed until it expires.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { ApprovalNoticeService } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog } from './client-mail-ops-log.ts';

const HOUR = 3_600_000;

void test('approvals are mailed soonest-to-expire first, whatever order the agent lists them in', async () => {
  let now = new Date('2026-01-07T10:00:00Z');
  const approvals: { id: string; createdAt: number }[] = [{ id: 'ap_customer', createdAt: now.getTime() }];
  const mailed: string[] = [];
  const service = new ApprovalNoticeService({
    registry: memoryOpsLog(),
    // As the agent answers: newest first; each expires 48 hours after it was made.
    agents: {
      listApprovals: async () => ({
        approvals: [...approvals].reverse().map((entry) => ({ id: entry.id, expiresAt: new Date(entry.createdAt + 48 * HOUR).toISOString() })),
      }),
    } as never,
    views: {
      notice: async (_client: string, notice: { approvalId: string }) => {
        mailed.push(notice.approvalId);
        return 'sent' as const;
      },
    } as never,
    approvalLink: (_client, id) => `https://portal.example/a/${id}`,
    logger: createSilentLogger(),
    clock: { now: () => now },
    limits: { perHour: 2, perDay: 1_000 },
  });
  // The limit is used up by a burst; the customer's approval waits behind it.
  for (let index = 0; index < 5; index++) approvals.push({ id: `ap_flood_${index}`, createdAt: now.getTime() + 1 + index });
  await service.announceNew('acme');
  // Every hour the stranger causes more approvals than the limit mails.
  for (let hour = 1; hour <= 3; hour++) {
    now = new Date(now.getTime() + HOUR + 1);
    for (let index = 0; index < 3; index++) approvals.push({ id: `ap_flood_${hour}_${index}`, createdAt: now.getTime() + index });
    await service.announceNew('acme');
  }
  assert.ok(mailed.includes('ap_customer'), `the older approval is mailed within hours, not starved: ${mailed.join(', ')}`);
  assert.equal(mailed[0], 'ap_customer', 'it expires soonest, so it goes first');
});
