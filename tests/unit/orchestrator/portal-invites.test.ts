// `fleet portal invite`: every enrolment link that may have left the building is in the ops log, and the
// link itself never is.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { FleetError, isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { NewOpsLogEntry } from '../../../orchestrator/src/ports/registry.ts';
import type { AdminNoticeOutcome, AdminNoticeRequest } from '../../../orchestrator/src/services/agent-views.ts';
import { PortalInviteService } from '../../../orchestrator/src/services/portal-invites.ts';

function bed(notice: (request: AdminNoticeRequest) => Promise<AdminNoticeOutcome>) {
  const opsLog: NewOpsLogEntry[] = [];
  const token = randomBytes(32).toString('base64url');
  const url = `https://portal.example/enrol/${token}`;
  const service = new PortalInviteService({
    registry: {
      getClient: async () => ({ configYaml: 'client: acme\nadmins: [boss@acme.example]\n' }) as never,
      appendOpsLog: async (entry: NewOpsLogEntry) => {
        opsLog.push(entry);
        return entry as never;
      },
    },
    views: { notice: (_clientId: string, request: AdminNoticeRequest) => notice(request) },
    issue: async () => ({ url, expiresAt: new Date('2026-01-08T00:00:00Z') }),
  });
  return { service, opsLog, token };
}

void test('an invitation whose mailing fails (the agent timed out, perhaps after sending) is ops-logged as such, without the link', async () => {
  const { service, opsLog, token } = bed(async () => {
    throw new FleetError('unavailable', 'the agent did not answer in time');
  });
  await assert.rejects(service.invite({ clientId: 'acme', email: 'Boss@acme.example', print: false, actor: 'op-1' }), (error: unknown) => isFleetError(error) && error.code === 'unavailable');
  assert.equal(opsLog.length, 1, 'the issued link is on record');
  const entry = opsLog[0]!;
  assert.equal(entry.action, 'portal-invite');
  assert.equal(entry.outcome, 'failure');
  assert.equal(entry.actor, 'op-1');
  assert.deepEqual({ ...entry.details }, { admin: 'boss@acme.example', delivery: 'mailed', outcome: 'unknown', expiresAt: '2026-01-08T00:00:00.000Z', error: 'unavailable' });
  assert.ok(!JSON.stringify(opsLog).includes(token), 'the link is not in the ops log');
});

void test('a mailed invitation is ops-logged once, without the link', async () => {
  const { service, opsLog, token } = bed(async () => 'sent');
  const result = await service.invite({ clientId: 'acme', email: 'boss@acme.example', print: false, actor: 'op-1' });
  assert.equal(result.delivery, 'mailed');
  assert.equal(opsLog.length, 1);
  assert.equal(opsLog[0]!.outcome, 'success');
  assert.ok(!JSON.stringify(opsLog).includes(token));
});
