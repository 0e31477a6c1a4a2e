// A send the kill switch stopped gets its outcome in the audit trail: after its intent, a failure that
// names the kill, so nobody reading the trail of a killed agent has to wonder whether it went. It stays
// pending, unsent, and the kill still propagates to the caller.
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

describe('the audit trail of a send the kill stopped', () => {
  it('records the intent, then a failure naming the kill; nothing reached the provider', async () => {
    const dir = await temporaryDirectory('outbox-kill-audit');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const kill = new KillSwitch(join(dir.path, 'KILLED'));
    const audit = await AuditLog.open({ directory: join(dir.path, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: join(dir.path, 'outbox'), keys: key, audit, pause: await volumePause(dir.path, key) });
    const provider = new FakeSendReceipts();
    const receipts = killGuarded(provider, kill);
    await outbox.recover(receipts);
    const entry = await outbox.enqueue(approvedInvoice('kill-audit-1'));
    // The admin pulls the switch between the recorded intent and the provider call.
    kill.latch();

    await assert.rejects(outbox.dispatch(entry.idempotencyKey, receipts), (error: unknown) => error instanceof FleetError && error.code === 'killed');
    assert.equal(provider.sent.length, 0);
    assert.equal(outbox.get(entry.idempotencyKey)?.status, 'pending');
    const records = (await audit.read()).filter((record) => record.action_type === 'email_send' && record.parameters['idempotency_key'] === 'kill-audit-1');
    assert.deepEqual(
      records.map((record) => [record.result, record.parameters['error_category'] ?? null]),
      [
        ['intended', null],
        ['failure', 'killed'],
      ],
    );
    await outbox.close();
    await audit.close();
  });
});
