// The per-day limit of approval notices is seeded at a client's first pass from the ops log. That read took
// every notice the client ever had, a list that only grows; it reads the last 24 hours, all the limit counts
// (before each notice, so that what another orchestrator on the registry mails counts too).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { NewOpsLogEntry, OpsLogAppendGuard, OpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import { APPROVAL_NOTICE_ACTION, ApprovalNoticeService } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog } from './client-mail-ops-log.ts';

const NOW = new Date('2026-01-07T10:00:00.000Z');
const HOUR_MS = 3_600_000;
const OLD_NOTICES = 400;

void test('a restart reads the notices of the last 24 hours only, and the day limit still counts them', async () => {
  const opsLog = memoryOpsLog();
  const notice = async (hoursAgo: number) => {
    const at = new Date(NOW.getTime() - hoursAgo * HOUR_MS).toISOString();
    await opsLog.appendOpsLog({ actor: 'system', action: APPROVAL_NOTICE_ACTION, clientId: 'acme', reason: null, outcome: 'success', details: {}, at });
  };
  // A long history: one notice every two hours for the days before, then three within the last day.
  for (let index = 0; index < OLD_NOTICES; index += 1) await notice(25 + index * 2);
  for (const hoursAgo of [20, 10, 2]) await notice(hoursAgo);

  const reads: OpsLogEntry[][] = [];
  const registry = {
    ...opsLog,
    // The reservations the limits were decided on, as the guarded append read them.
    appendOpsLogIf: <Refusal>(entry: NewOpsLogEntry, guard: OpsLogAppendGuard<Refusal>) =>
      opsLog.appendOpsLogIf(entry, {
        reads: guard.reads,
        refusal: (read) => {
          reads.push([...(read[0] ?? [])]);
          return guard.refusal(read);
        },
      }),
  };
  const pending = Array.from({ length: 10 }, (_, index) => ({ id: `ap_${index}`, expiresAt: '2026-01-10T10:00:00.000Z' }));
  const service = new ApprovalNoticeService({
    registry,
    agents: { listApprovals: async () => ({ approvals: pending }) },
    views: { notice: async () => 'sent' as const },
    approvalLink: (_client, id) => `https://portal.example/a/${id}`,
    logger: createSilentLogger(),
    clock: { now: () => NOW },
    limits: { perHour: 30, perDay: 5 },
  });

  assert.equal(await service.announceNew('acme'), 2, 'three of the five a day were mailed before the restart');
  // Read before each notice (other orchestrators on the registry mail too): two mailed, the third held.
  assert.deepEqual(
    reads.map((entries) => entries.length),
    [3, 4, 5],
    'the last 24 hours each time, not the client’s whole history',
  );
});
