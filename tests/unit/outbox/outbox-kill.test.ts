// The kill switch against a send the outbox is retrying: a kill that lands during the backoff is the
// agent's own stop, not the provider refusing our credentials. The send stays pending (nothing more goes
// to the provider), the kill propagates to the caller, and no authentication pause, alert or
// auth-failure record is made of it (a pause of that kind would outlive the revive).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { KillSwitch } from '../../../agent-image/src/services/runtime/kill-switch.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { approvedInvoice, killGuarded } from './kill-guarded-sends.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('outbox and the kill switch', () => {
  it('a kill during the backoff stops the retry: the send stays pending, the kill propagates, no auth pause', async () => {
    const dir = await temporaryDirectory('outbox-kill');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const raised: string[] = [];
    const kill = new KillSwitch(join(dir.path, 'KILLED'));
    const audit = await AuditLog.open({ directory: join(dir.path, 'audit'), keys: key });
    const outbox = await Outbox.open({
      directory: join(dir.path, 'outbox'),
      keys: key,
      audit,
      backoff: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 },
      random: () => 0.5,
      // The kill arrives while the outbox waits to retry.
      sleep: async () => kill.latch(),
      pause: await volumePause(dir.path, key, raised),
    });
    const provider = new FakeSendReceipts().failNextSend(new FleetError('unavailable', 'provider outage'));
    const receipts = killGuarded(provider, kill);
    await outbox.recover(receipts);
    const entry = await outbox.enqueue(approvedInvoice('approval-kill-1'));

    await assert.rejects(outbox.dispatch(entry.idempotencyKey, receipts), (error: unknown) => error instanceof FleetError && error.code === 'killed');
    assert.equal(provider.sent.length, 0, 'nothing reached the provider after the kill');
    assert.equal(outbox.get(entry.idempotencyKey)?.status, 'pending');
    assert.equal(outbox.paused, null, 'a kill is not an authentication pause');
    assert.deepEqual(raised, []);
    const actions = (await audit.read()).map((record) => `${record.action_type}:${record.result}`);
    assert.ok(!actions.includes('auth_failure:failure'), `no auth failure recorded: ${actions.join(', ')}`);
    await outbox.close();
    await audit.close();
  });
});
