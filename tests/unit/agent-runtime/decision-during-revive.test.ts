// An approval clicked while the agent is killed (a one-tap link from before the kill) is asked again at
// the revive, even when the click lands as the revive begins: it never runs on its own after the revive.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createApproval } from '../../../agent-image/src/domain/approval.ts';
import { parseProposedAction } from '../../../agent-image/src/domain/policy/proposed-action.ts';
import type { OpenedAgent } from '../../../agent-image/src/services/runtime/open-volume.ts';
import { dataDirectories } from '../../helpers/agent-volume.ts';
import { introducedRuntime } from './introduced-runtime.ts';

const freshDataDir = dataDirectories('decision-during-revive-');

describe('an approval decided as the revive begins', () => {
  test('is held by the revive and asked again, not left waiting to run', async () => {
    const runtime = await introducedRuntime(await freshDataDir());
    try {
      const opened = (runtime as unknown as { opened: OpenedAgent }).opened;
      const parsed = parseProposedAction({ kind: 'mail.send', to: ['kim@partner.example'], subject: 'Re: Invoice', body: 'Paid in full.', emailType: 'acknowledgement' });
      assert.ok(parsed.ok);
      const created = createApproval({ id: 'apr-before-kill', actionKind: 'mail.send', arguments: parsed.action, policyReasons: ['new_recipient'], now: new Date(), timeoutHours: 72 });
      assert.ok(created.ok);
      await opened.approvals.put({
        record: created.record,
        idempotencyKey: 'send-before-kill',
        messageId: null,
        draftId: null,
        preview: { to: ['kim@partner.example'], cc: [], subject: 'Re: Invoice', bodyPreview: 'Paid in full.', emailType: 'acknowledgement' },
        execution: 'none',
      });
      await runtime.killAgent('wrong recipients', 'admin:boss');

      // The revive begins; the one-tap link from before the kill is clicked at the same moment.
      const revived = runtime.revive('fixed', 'admin:boss');
      const decided = runtime.decide('apr-before-kill', { decision: 'approve', by: 'kim', via: 'portal' });
      await Promise.all([revived, decided]);

      const clicked = runtime.listApprovals().find((entry) => entry.record.id === 'apr-before-kill');
      assert.equal(clicked?.record.status, 'approved');
      assert.notEqual(clicked?.execution, 'waiting', 'the click during the kill does not run on its own after the revive');
      const askedAgain = runtime.listApprovals('pending').filter((entry) => entry.idempotencyKey === 'send-before-kill');
      assert.equal(askedAgain.length, 1, 'a fresh approval asks about it');
      assert.ok(askedAgain[0]?.record.policyReasons.includes('held_by_kill_switch'));
    } finally {
      await runtime.stop();
    }
  });
});
