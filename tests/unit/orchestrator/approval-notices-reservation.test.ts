// Two orchestrators (the CLI's server and the portal, or two replicas) on one registry each read the last
// 24 hours of approval notices, saw room for one more, and both mailed: the limits could be passed by one
// notice per process deciding at the same moment. A notice is now reserved in the ops log, by a guarded
// append the registry decides under its lock, before it is handed to the agent, and released when the
// hand-over fails, so a failed mail does not use up the limit while a crash part way errs on the side of
// fewer mails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import type { AdminNoticeOutcome } from '../../../orchestrator/src/services/agent-views.ts';
import { APPROVAL_NOTICE_ACTION, ApprovalNoticeService, type ApprovalNoticeLimits } from '../../../orchestrator/src/services/approval-notices.ts';
import { memoryOpsLog, type MemoryOpsLog } from './client-mail-ops-log.ts';
import { meetingOfTwo } from '../../helpers/meeting-of-two.ts';

const NOW = new Date('2026-01-07T10:00:00.000Z');
const LATER = '2026-01-10T10:00:00.000Z';
const SOONER = '2026-01-08T10:00:00.000Z';

/**
 * Two handles on one ops log whose first read or guarded append waits until both handles reached one: each
 * process has then come to its decision before either records anything, the interleaving a race needs.
 */
function meetingAtFirstDecision(opsLog: MemoryOpsLog): [MemoryOpsLog, MemoryOpsLog] {
  const meeting = meetingOfTwo();
  const handle = (): MemoryOpsLog => {
    const meet = meeting.party();
    return {
      ...opsLog,
      listOpsLog: async (filter) => (await meet(), opsLog.listOpsLog(filter)),
      appendOpsLogIf: async (entry, guard) => (await meet(), opsLog.appendOpsLogIf(entry, guard)),
    };
  };
  return [handle(), handle()];
}

type Notice = (clientId: string, notice: { approvalId?: string }) => Promise<AdminNoticeOutcome>;

function orchestrator(registry: MemoryOpsLog, approvals: () => { id: string; expiresAt: string }[], notice: Notice, limits: ApprovalNoticeLimits) {
  return new ApprovalNoticeService({
    registry,
    agents: { listApprovals: async () => ({ approvals: approvals() }) },
    views: { notice: notice as never },
    approvalLink: (_client, id) => `https://portal.example/a/${id}`,
    logger: createSilentLogger(),
    clock: { now: () => NOW },
    limits,
  });
}

/** The client's agent: what it mailed, each approval at most once. */
function mailingAgent() {
  const mailed: string[] = [];
  const notice: Notice = async (_client, notice) => {
    const id = String(notice.approvalId);
    if (mailed.includes(id)) throw new FleetError('conflict', `approval ${id} was mailed already`);
    mailed.push(id);
    return 'sent';
  };
  return { mailed, notice };
}

const reservations = (opsLog: MemoryOpsLog) => opsLog.entries.filter((entry) => entry.action === APPROVAL_NOTICE_ACTION);

void test('two orchestrators deciding at the same moment mail no more than the limit between them', async () => {
  const opsLog = memoryOpsLog(() => NOW);
  const agent = mailingAgent();
  const limits = { perHour: 30, perDay: 3 };
  // Two of the day's three were mailed earlier.
  for (const id of ['ap_a', 'ap_b']) {
    await opsLog.appendOpsLog({ actor: 'system', action: APPROVAL_NOTICE_ACTION, clientId: 'acme', reason: null, outcome: 'success', details: { approval: id }, at: NOW.toISOString() });
  }
  // An approval arrived between the two passes' lists: each process has a different one to mail first.
  const [cliLog, portalLog] = meetingAtFirstDecision(opsLog);
  const cli = orchestrator(cliLog, () => [{ id: 'ap_1', expiresAt: LATER }], agent.notice, limits);
  const portal = orchestrator(portalLog, () => [{ id: 'ap_0', expiresAt: SOONER }, { id: 'ap_1', expiresAt: LATER }], agent.notice, limits);

  const [byCli, byPortal] = await Promise.all([cli.announceNew('acme'), portal.announceNew('acme')]);
  assert.equal(agent.mailed.length, 1, `one fits the day, mailed: ${agent.mailed.join(', ')}`);
  assert.equal(byCli + byPortal, 1);
  assert.equal(reservations(opsLog).length, 3, 'the two earlier ones and the one mailed');
});

void test('a notice whose hand-over failed is released: it does not use up the limit', async () => {
  const opsLog = memoryOpsLog(() => NOW);
  const mailed: string[] = [];
  let failing = true;
  const notice: Notice = async (_client, notice) => {
    if (failing) throw new Error('the agent is unreachable');
    mailed.push(String(notice.approvalId));
    return 'sent';
  };
  const pending = [{ id: 'ap_0', expiresAt: SOONER }, { id: 'ap_1', expiresAt: LATER }];
  const service = orchestrator(opsLog, () => pending, notice, { perHour: 1, perDay: 10 });

  for (let pass = 0; pass < 3; pass += 1) assert.equal(await service.announceNew('acme'), 0);
  failing = false;
  assert.equal(await service.announceNew('acme'), 1, 'the failed attempts left the hour free');
  assert.deepEqual(mailed, ['ap_0']);
  assert.equal(await service.announceNew('acme'), 0, 'and the one mailed uses it up');
});

void test('a notice the agent had mailed already, or skipped, is released', async () => {
  const opsLog = memoryOpsLog(() => NOW);
  let answer: 'conflict' | 'skipped' = 'conflict';
  const notice: Notice = async () => {
    if (answer === 'conflict') throw new FleetError('conflict', 'mailed already');
    return 'skipped';
  };
  const pending = Array.from({ length: 4 }, (_, index) => ({ id: `ap_${index}`, expiresAt: LATER }));
  assert.equal(await orchestrator(opsLog, () => pending, notice, { perHour: 1, perDay: 1 }).announceNew('acme'), 0);
  answer = 'skipped';
  assert.equal(await orchestrator(opsLog, () => pending, notice, { perHour: 1, perDay: 1 }).announceNew('acme'), 4, 'none of them used up the limit');
  const agent = mailingAgent();
  assert.equal(await orchestrator(opsLog, () => pending, agent.notice, { perHour: 1, perDay: 1 }).announceNew('acme'), 1);
  assert.equal(agent.mailed.length, 1);
});

void test('a notice being handed over by one process counts for another, and stays counted if its release is lost', async () => {
  const opsLog = memoryOpsLog(() => NOW);
  let handOver = (): void => undefined;
  const slow: Notice = () =>
    new Promise((_resolve, reject) => {
      handOver = () => reject(new Error('the agent went away'));
    });
  const limits = { perHour: 1, perDay: 10 };
  // The first process's records after the reservation fail, as when it crashes part way.
  const losingRecords: MemoryOpsLog = { ...opsLog, appendOpsLog: () => Promise.reject(new Error('the registry is unreachable')) };
  const first = orchestrator(losingRecords, () => [{ id: 'ap_0', expiresAt: SOONER }], slow, limits);
  const firstPass = first.announceNew('acme');
  // Let the first pass reserve and start its hand-over.
  for (let turn = 0; turn < 10 && reservations(opsLog).length === 0; turn += 1) await Promise.resolve();
  assert.equal(reservations(opsLog).length, 1);

  const agent = mailingAgent();
  const second = orchestrator(opsLog, () => [{ id: 'ap_1', expiresAt: LATER }], agent.notice, limits);
  assert.equal(await second.announceNew('acme'), 0, 'the hour is taken by the notice in flight');
  handOver();
  await firstPass;
  assert.equal(await second.announceNew('acme'), 0, 'its release was lost: it counts, erring on fewer mails');
  assert.deepEqual(agent.mailed, []);
});

void test('a reservation the registry refuses to record is not mailed', async () => {
  const opsLog = memoryOpsLog(() => NOW);
  const unreachable: MemoryOpsLog = { ...opsLog, appendOpsLogIf: () => Promise.reject(new Error('the registry is unreachable')) };
  const agent = mailingAgent();
  await assert.rejects(orchestrator(unreachable, () => [{ id: 'ap_0', expiresAt: LATER }], agent.notice, { perHour: 5, perDay: 5 }).announceNew('acme'), /unreachable/);
  assert.deepEqual(agent.mailed, []);
});
