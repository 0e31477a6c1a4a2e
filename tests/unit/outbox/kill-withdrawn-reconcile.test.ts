// A send the provider took just as the kill landed (the SIGKILL came before its answer) is withdrawn by
// the revive, which runs while the agent is killed and not connected and so cannot ask the provider. The
// first recovery after the revive asks: one that went out is recorded as sent (audited as such), so a
// human rejecting the approval that asks about it cannot make the trail say it was never sent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import type { SendRequest } from '../../../agent-image/src/services/outbox/outbox-types.ts';
import type { SendPause } from '../../../agent-image/src/services/outbox/send-pause.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function openOutbox(dir: string, key: Buffer, pause: SendPause) {
  const audit = await AuditLog.open({ directory: join(dir, 'audit'), keys: key });
  const outbox = await Outbox.open({ directory: join(dir, 'outbox'), keys: key, audit, pause });
  return { audit, outbox };
}

const REQUEST = {
  message: { to: ['client@example.com'], subject: 'Offer', text: 'Our offer is attached.' },
  idempotencyKey: 'reply-kill-withdrawn-1',
  actor: 'agent',
  approvalStatus: 'auto_approved',
  approvedBy: 'policy',
} satisfies SendRequest;

/** A process that handed the send to the provider and died before the answer (the kill's SIGKILL). */
async function crashMidSend(dir: string, key: Buffer, pause: SendPause, provider: FakeSendReceipts): Promise<void> {
  const { audit, outbox } = await openOutbox(dir, key, pause);
  await outbox.recover(provider);
  await outbox.enqueue(REQUEST);
  provider.hangAfterNextSend();
  void outbox.dispatch(REQUEST.idempotencyKey, provider);
  while (provider.sendsFor(REQUEST.idempotencyKey) === 0) await new Promise((resolve) => setImmediate(resolve));
  await outbox.close();
  await audit.close();
}

describe('a send withdrawn at a revive, and the provider', () => {
  it('one that went out before the kill is recorded as sent at the first recovery, never sent again, and cannot be discarded', async () => {
    const dir = await temporaryDirectory('kill-withdrawn');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const pause = await volumePause(dir.path, key);
    const provider = new FakeSendReceipts();
    await crashMidSend(dir.path, key, pause, provider);
    assert.equal(provider.sendsFor(REQUEST.idempotencyKey), 1, 'the provider took it');

    // The restarted agent is killed: the revive withdraws before it connects (no provider to ask yet).
    const { audit, outbox } = await openOutbox(dir.path, key, pause);
    await outbox.withdraw(REQUEST.idempotencyKey, 'admin:alice');
    assert.equal(outbox.get(REQUEST.idempotencyKey)?.status, 'withdrawn');

    // The revive connects: the recovery asks about it.
    const report = await outbox.recover(provider);
    assert.deepEqual(report.reconciled, [REQUEST.idempotencyKey]);
    const entry = outbox.get(REQUEST.idempotencyKey);
    assert.equal(entry?.status, 'sent');
    assert.equal(entry?.reconciled, true);
    assert.equal(provider.sendsFor(REQUEST.idempotencyKey), 1, 'never sent twice');
    const sends = (await audit.read()).filter((record) => record.action_type === 'email_send').map((record) => record.result);
    assert.ok(sends.includes('success'), `the send is audited as having gone: ${sends.join(', ')}`);
    // A human rejecting the approval that asks about it no longer records it as never sent.
    await assert.rejects(outbox.discard(REQUEST.idempotencyKey, 'admin:alice', 'rejected'), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    await outbox.close();
    await audit.close();
  });

  it('one the provider never took stays withdrawn and unsent, and is asked about once per process', async () => {
    const dir = await temporaryDirectory('kill-withdrawn');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const pause = await volumePause(dir.path, key);
    const provider = new FakeSendReceipts();
    {
      const { audit, outbox } = await openOutbox(dir.path, key, pause);
      await outbox.recover(provider);
      await outbox.enqueue(REQUEST);
      await outbox.close();
      await audit.close();
    }
    const { audit, outbox } = await openOutbox(dir.path, key, pause);
    await outbox.withdraw(REQUEST.idempotencyKey, 'admin:alice');
    await outbox.recover(provider);
    await outbox.recover(provider);
    assert.equal(outbox.get(REQUEST.idempotencyKey)?.status, 'withdrawn');
    assert.equal(provider.sendsFor(REQUEST.idempotencyKey), 0);
    assert.equal(provider.calls.filter((call) => call === `find:${REQUEST.idempotencyKey}`).length, 1);
    await outbox.discard(REQUEST.idempotencyKey, 'admin:alice', 'rejected');
    assert.equal(outbox.get(REQUEST.idempotencyKey)?.status, 'discarded');
    await outbox.close();
    await audit.close();
  });
});
