// Two orchestrators (the CLI's server and the portal, or two replicas) watch the same clients on one
// registry. Each counted approval notices in its own memory once it had read the ops log at its first pass,
// so together they mailed a client's admins up to twice the hour's and the day's limits. Each now counts
// from the registry before each notice, the other's notices included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { APPROVAL_NOTICE_RESULT_ACTION, ApprovalNoticeService, type ApprovalNoticeLimits } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog, type MemoryOpsLog } from './client-mail-ops-log.ts';

const HOUR_MS = 3_600_000;

/** One client's agent as both orchestrators reach it: its pending approvals, and each mailed at most once. */
function sharedAgent() {
  const pending: { id: string; expiresAt: string }[] = [];
  const mailed: string[] = [];
  return {
    pending,
    mailed,
    listApprovals: async () => ({ approvals: [...pending] }),
    notice: async (_client: string, notice: { approvalId?: string }) => {
      const id = String(notice.approvalId);
      if (mailed.includes(id)) throw new FleetError('conflict', `approval ${id} was mailed already`);
      mailed.push(id);
      return 'sent' as const;
    },
  };
}

function orchestrator(opsLog: MemoryOpsLog, agent: ReturnType<typeof sharedAgent>, now: () => Date, limits: ApprovalNoticeLimits) {
  return new ApprovalNoticeService({
    registry: opsLog,
    agents: { listApprovals: agent.listApprovals },
    views: { notice: agent.notice as never },
    approvalLink: (_client, id) => `https://portal.example/a/${id}`,
    logger: createSilentLogger(),
    clock: { now },
    limits,
  });
}

void test('two orchestrators on one registry keep to one hour limit and one day limit between them', async () => {
  let now = new Date('2026-01-07T10:00:00.000Z');
  const clock = () => now;
  const opsLog = memoryOpsLog(clock);
  const agent = sharedAgent();
  const limits = { perHour: 4, perDay: 6 };
  const cli = orchestrator(opsLog, agent, clock, limits);
  const portal = orchestrator(opsLog, agent, clock, limits);

  // Both have passed over the client before the flood, with nothing to mail.
  assert.equal(await cli.announceNew('acme'), 0);
  assert.equal(await portal.announceNew('acme'), 0);
  for (let index = 0; index < 20; index += 1) agent.pending.push({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' });

  assert.equal(await cli.announceNew('acme'), 4);
  assert.equal(await portal.announceNew('acme'), 0, 'the hour is used up by the other orchestrator');
  now = new Date(now.getTime() + HOUR_MS + 1);
  assert.equal((await portal.announceNew('acme')) + (await cli.announceNew('acme')), 2, 'the day is used up at 6, between them');
  assert.equal(agent.mailed.length, 6);
  const handed = opsLog.entries.filter((entry) => entry.action === APPROVAL_NOTICE_RESULT_ACTION && entry.outcome === 'success');
  assert.equal(handed.length, 6, 'each notice mailed is on record');
});

void test('a notice whose result the ops log refused still counts, for every process on the registry', async () => {
  const now = new Date('2026-01-07T10:00:00.000Z');
  const opsLog = memoryOpsLog(() => now);
  let refuse = true;
  const refusing: MemoryOpsLog = {
    ...opsLog,
    appendOpsLog: (entry) => (refuse ? Promise.reject(new Error('the registry is unreachable')) : opsLog.appendOpsLog(entry)),
  };
  const agent = sharedAgent();
  for (let index = 0; index < 5; index += 1) agent.pending.push({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' });
  const limits = { perHour: 3, perDay: 10 };

  assert.equal(await orchestrator(refusing, agent, () => now, limits).announceNew('acme'), 3);
  refuse = false;
  assert.equal(await orchestrator(opsLog, agent, () => now, limits).announceNew('acme'), 0, 'the hour is used up by the three reserved');
  assert.equal(agent.mailed.length, 3);
});
