// One-tap approval notices across an orchestrator restart, against the agent's real notice path (admin
// notifier, outbox): each ask signs a new link, so the agent refuses a second mail under the approval's
// outbox key. That refusal settles the approval here; it is not a failure to ask about on every pass.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { parseClientConfig } from '@agent-fleet/kernel/client-config';
import { createSilentLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { PolicyEvaluator } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { sendAdminNotice } from '../../../agent-image/src/services/runtime/admin-notices.ts';
import { AdminNotifier } from '../../../agent-image/src/services/runtime/admin-notifier.ts';
import type { StoredApproval } from '../../../agent-image/src/services/runtime/approval-store.ts';
import type { AdminNoticeRequest } from '../../../orchestrator/src/services/agent-views.ts';
import { ApprovalNoticeService } from '../../../orchestrator/src/services/approval-notices.ts';
import { openSendDeskBed } from '../agent-runtime/send-desk-bed.ts';
import { memoryOpsLog } from './client-mail-ops-log.ts';

const PORTAL = 'https://portal.example';

const config = (() => {
  const parsed = parseClientConfig({ client: 'acme', mailbox: 'me@acme.example', admins: ['boss@acme.example'], permissions: { 'mail.send': true } });
  if (!parsed.ok) throw new Error(parsed.issues.join('; '));
  return parsed.config;
})();

function pending(id: string, now: Date): StoredApproval {
  return {
    record: {
      id,
      actionKind: 'mail.send',
      policyReasons: ['new_contact'],
      proposedArguments: { kind: 'mail.send', to: ['lead@newco.example'], cc: [], bcc: [], subject: `Lead ${id}`, body: 'b' },
      proposedHash: 'sha256:0',
      status: 'pending',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 48 * 3_600_000).toISOString(),
    },
    idempotencyKey: `k-${id}`,
    messageId: null,
    draftId: null,
    preview: { to: ['lead@newco.example'], cc: [], subject: `Lead ${id}`, bodyPreview: 'b', emailType: null },
    execution: 'none',
  };
}

function countingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const silent = createSilentLogger();
  const logger: Logger = { ...silent, warn: (message: string) => void warnings.push(message), child: () => logger } as Logger;
  return { logger, warnings };
}

void test('after a restart, approvals the agent already mailed are settled in one pass: no second mail, no ask on every pass', async () => {
  const bed = await openSendDeskBed({ config, gate: {} as PolicyEvaluator, prefix: 'notice-restart-' });
  try {
    const ids = ['ap_1', 'ap_2', 'ap_3'];
    for (const id of ids) await bed.approvals.put(pending(id, bed.clock.now));
    const notifier = new AdminNotifier(bed.context);
    let asks = 0;
    const views = {
      notice: async (_client: string, notice: AdminNoticeRequest) => {
        asks++;
        return sendAdminNotice({ config, notifier, approval: (id) => bed.desk.approvalAsOf(id), portalUrl: PORTAL }, notice);
      },
    };
    const approvals = async () => ({ approvals: bed.desk.listApprovals('pending').map((entry) => ({ id: entry.record.id, expiresAt: entry.record.expiresAt })) });
    // Each link carries a fresh nonce, as the portal's signed links do.
    const approvalLink = (_client: string, id: string) => `${PORTAL}/a/l1.${id}.${randomBytes(8).toString('hex')}`;
    const opsLog = memoryOpsLog(() => bed.clock.now);
    const service = (logger: Logger) =>
      new ApprovalNoticeService({ registry: opsLog, agents: { listApprovals: approvals } as never, views, approvalLink, logger, clock: { now: () => bed.clock.now } });

    assert.equal(await service(createSilentLogger()).announceNew('acme'), 3);
    assert.equal(bed.provider.sent.length, 3, 'each approval mailed once');

    const { logger, warnings } = countingLogger();
    const restarted = service(logger);
    await restarted.announceNew('acme');
    const asksAfterFirstPass = asks;
    await restarted.announceNew('acme');
    await restarted.announceNew('acme');
    assert.equal(asks, asksAfterFirstPass, 'settled approvals are not asked about again on every pass');
    assert.equal(bed.provider.sent.length, 3, 'no approval mailed twice');
    assert.deepEqual(warnings, [], 'a settled notice is not a failure');

    await bed.approvals.put(pending('ap_4', bed.clock.now));
    assert.equal(await restarted.announceNew('acme'), 1, 'a new approval is still mailed');
    assert.equal(bed.provider.sent.length, 4);
  } finally {
    await bed.close();
  }
});
