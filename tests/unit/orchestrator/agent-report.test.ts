// `fleet status` shows what the running agent says of itself; the answer comes from inside a client's
// container, so it is read strictly and a failure to get it never fails the command.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { readAgentReport } from '../../../orchestrator/src/services/agent-report.ts';

const STATUS = {
  client: 'acme',
  lifecycle: 'ready',
  ready: true,
  killed: false,
  paused: null,
  pausedSince: null,
  dryRun: false,
  connection: 'outlook',
  vault: 'ok',
  pendingApprovals: 0,
  lastSync: '2026-12-06T10:05:00.000Z',
  messages: { done: 4 },
  outbox: { pending: 0, held: 0, sent: 4 },
  auditHead: { seq: 9, hash: 'sha256:00' },
  push: { enabled: false, expiresAt: null },
};

describe('the agent report of fleet status', () => {
  test('an agent status is read into the report', async () => {
    const outcome = await readAgentReport(() => Promise.resolve(STATUS));
    assert.ok('report' in outcome);
    assert.equal(outcome.report.connection, 'outlook');
    assert.equal(outcome.report.lastSync, '2026-12-06T10:05:00.000Z');
  });

  test('an answer that could drive the operator’s terminal or is not a report is refused as a whole', async () => {
    for (const hostile of [
      { ...STATUS, paused: 'rate_limit\u001b[2J' },
      { ...STATUS, connection: 'gmail\nstatus:   active' },
      { ...STATUS, lastSync: '2026-12-06T10:05:00Z\u202e' },
      { ...STATUS, pendingApprovals: -1 },
      { ...STATUS, push: { enabled: true, expiresAt: 'x'.repeat(10_000) } },
      'ready',
      null,
    ]) {
      assert.deepEqual(await readAgentReport(() => Promise.resolve(hostile)), {
        unavailable: 'the agent answered with something that is not a status report',
      });
    }
  });

  test('an agent that does not answer gives the reason, never an error', async () => {
    assert.deepEqual(await readAgentReport(() => Promise.reject(new FleetError('unavailable', 'the agent of acme is not running (killed)'))), {
      unavailable: 'the agent of acme is not running (killed)',
    });
    assert.deepEqual(await readAgentReport(() => Promise.reject(new Error('socket hang up'))), { unavailable: 'the agent did not answer' });
  });
});
