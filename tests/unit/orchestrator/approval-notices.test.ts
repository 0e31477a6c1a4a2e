// One-tap approval emails: each approval stems from an inbound email a stranger may have sent, so a
// flood of approvals must not become a flood of mail from the client's own mailbox, and one approval
// whose notice fails must not hold up the others.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { ApprovalNoticeService } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog } from './client-mail-ops-log.ts';

interface Notice {
  kind: 'approval';
  approvalId: string;
  url: string;
}

function setup(approvals: unknown[], fail: (id: string) => boolean = () => false) {
  let now = new Date('2026-01-07T10:00:00Z');
  const mailed: string[] = [];
  const service = new ApprovalNoticeService({
    registry: memoryOpsLog(),
    agents: { listApprovals: async () => ({ approvals }) },
    views: {
      notice: async (_client: string, notice: Notice) => {
        if (fail(notice.approvalId)) throw new Error('agent timed out');
        mailed.push(notice.approvalId);
        return 'sent' as const;
      },
    } as never,
    approvalLink: (_client, id, expiresAt) => `https://portal.example/a/${id}.${expiresAt?.getTime() ?? 'none'}`,
    logger: createSilentLogger(),
    clock: { now: () => now },
    limits: { perHour: 5, perDay: 8 },
  });
  return { service, mailed, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const approval = (index: number) => ({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' });

void test('a flood of approvals is mailed at most perHour an hour and perDay a day; the rest wait, then follow', async () => {
  const flood = Array.from({ length: 2_000 }, (_, index) => approval(index));
  const { service, mailed, advance } = setup(flood);
  assert.equal(await service.announceNew('acme'), 5);
  assert.equal(await service.announceNew('acme'), 0, 'the hour is used up');
  advance(3_600_001);
  assert.equal(await service.announceNew('acme'), 3, 'the day is used up at 8');
  advance(3_600_001);
  assert.equal(await service.announceNew('acme'), 0);
  advance(22 * 3_600_000);
  assert.equal(await service.announceNew('acme'), 5, 'a day later the next ones, still pending, follow');
  assert.deepEqual(mailed, Array.from({ length: 13 }, (_, index) => `ap_${index}`), 'each once, in order');
});

void test('one approval whose notice fails does not hold up the others, and is tried again', async () => {
  let failing = true;
  const { service, mailed } = setup([approval(1), approval(2), approval(3)], (id) => failing && id === 'ap_1');
  assert.equal(await service.announceNew('acme'), 2);
  assert.deepEqual(mailed, ['ap_2', 'ap_3']);
  failing = false;
  assert.equal(await service.announceNew('acme'), 1);
  assert.deepEqual(mailed, ['ap_2', 'ap_3', 'ap_1']);
});

void test('malformed entries from the agent are left out, not signed into dead or odd links', async () => {
  const { service, mailed } = setup([{ id: 'ap_1', expiresAt: 'soon' }, { id: '../x', expiresAt: '2026-01-10T10:00:00Z' }, { id: 'ap_2' }, null, approval(3)]);
  assert.equal(await service.announceNew('acme'), 1);
  assert.deepEqual(mailed, ['ap_3']);
});

void test('overlapping passes for one client ask the agent once per approval', async () => {
  const { service, mailed } = setup([approval(1), approval(2)]);
  const [first, second] = await Promise.all([service.announceNew('acme'), service.announceNew('acme')]);
  assert.equal(first + second, 2);
  assert.deepEqual(mailed, ['ap_1', 'ap_2']);
});
