import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { Outbox, type SendRequest } from '../../../agent-image/src/services/outbox/outbox.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function start() {
  const dir = await temporaryDirectory('outbox-redispatch');
  cleanups.push(dir.remove);
  const key = randomBytes(32);
  const audit = await AuditLog.open({ directory: join(dir.path, 'audit'), keys: key });
  const outbox = await Outbox.open({
    directory: join(dir.path, 'outbox'),
    keys: key,
    audit,
    backoff: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    random: () => 0,
    sleep: async () => undefined,
    pause: await volumePause(dir.path, key),
  });
  return { audit, outbox };
}

function request(index: number): SendRequest {
  return {
    message: { to: [`client${index}@example.com`], subject: `Note ${index}`, text: `Hello ${index}` },
    idempotencyKey: `redispatch-${index}`,
    actor: 'agent',
    approvalStatus: 'approved',
    approvedBy: 'admin:alice',
  };
}

const timeout = () => Object.assign(new Error('socket timed out'), { code: 'ETIMEDOUT' });
const unavailable = () => new FleetError('unavailable', 'provider answered 503');

describe('outbox: dispatching again a send that may already have gone', () => {
  it('asks the provider first when an earlier dispatch in this process was deferred after a lost answer', async () => {
    const { outbox } = await start();
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    // The send reaches the provider but its answer is lost; the look-up before the retry fails too.
    provider.failNextSend(timeout(), { afterSending: true }).failNextLookup(unavailable());
    const first = await outbox.send(request(1), provider);
    assert.equal(first.status, 'deferred');
    assert.equal(provider.sendsFor('redispatch-1'), 1);

    // The caller repeats the send (the same approval, the same alert key) while the process lives on.
    const again = await outbox.send(request(1), provider);
    assert.equal(again.status, 'sent');
    assert.equal(provider.sendsFor('redispatch-1'), 1, 'the message went out twice');
    assert.equal(outbox.get('redispatch-1')?.reconciled, true);
  });

  it('asks the provider first when recording an accepted send failed', async () => {
    const { audit, outbox } = await start();
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    await outbox.enqueue(request(2));
    // The provider accepts the message, then writing its outcome fails (a full disk, an I/O error).
    const append = audit.append.bind(audit);
    audit.append = () => Promise.reject(new FleetError('unavailable', 'no space left on the volume'));
    await assert.rejects(outbox.dispatch('redispatch-2', provider), /no space left/);
    assert.equal(provider.sendsFor('redispatch-2'), 1);
    audit.append = append;

    const again = await outbox.dispatch('redispatch-2', provider);
    assert.equal(again.status, 'sent');
    assert.equal(provider.sendsFor('redispatch-2'), 1, 'the message went out twice');
  });
});
