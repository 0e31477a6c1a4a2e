import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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

interface Volume {
  dir: string;
  key: Buffer;
  delays: number[];
  paused: string[];
}

async function volume(): Promise<Volume> {
  const dir = await temporaryDirectory('outbox');
  cleanups.push(dir.remove);
  return { dir: dir.path, key: randomBytes(32), delays: [], paused: [] };
}

/** Opens the audit log and outbox of a volume, as the agent does at start (or after a crash). */
async function start(v: Volume, backoff = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 }) {
  const audit = await AuditLog.open({ directory: join(v.dir, 'audit'), keys: v.key });
  const outbox = await Outbox.open({
    directory: join(v.dir, 'outbox'),
    keys: v.key,
    audit,
    backoff,
    random: () => 0.5,
    sleep: async (milliseconds) => {
      v.delays.push(milliseconds);
    },
    pause: await volumePause(v.dir, v.key, v.paused),
  });
  return { audit, outbox };
}

function request(index: number, overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    message: { to: [`client${index}@example.com`], subject: `Invoice #${index}`, text: `Dear client ${index}, attached.` },
    idempotencyKey: `approval-000000000${index}`,
    actor: 'agent',
    approvalStatus: 'approved',
    approvedBy: 'admin:alice',
    ...overrides,
  };
}

describe('outbox', () => {
  it('sends once with the idempotency key in the message headers and audits intent then result', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    const outcome = await outbox.send(request(1), provider);
    assert.equal(outcome.status, 'sent');
    assert.equal(provider.sent.length, 1);
    assert.equal(provider.sent[0]?.message.headers[IDEMPOTENCY_HEADER], 'approval-0000000001');
    const records = await audit.read();
    assert.deepEqual(
      records.map((record) => [record.action_type, record.result]),
      [
        ['email_send', 'intended'],
        ['email_send', 'success'],
      ],
    );
    assert.equal(records[0]?.content_hash, records[1]?.content_hash);
    assert.match(records[0]?.content_hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(outbox.get('approval-0000000001')?.status, 'sent');
    await outbox.close();
    await audit.close();
  });

  it('refuses new sends until recover has reconciled with the provider', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    await assert.rejects(outbox.enqueue(request(1)), (error: unknown) => error instanceof FleetError && error.code === 'conflict');
    await outbox.close();
    await audit.close();
  });

  it('after a crash between intent and provider call, recover sends exactly once', async () => {
    const v = await volume();
    const first = await start(v);
    const provider = new FakeSendReceipts();
    await first.outbox.recover(provider);
    await first.outbox.enqueue(request(1));
    await first.outbox.enqueue(request(2));
    // crash: the process dies here; nothing was handed to the provider

    const second = await start(v);
    const report = await second.outbox.recover(provider);
    assert.deepEqual(report.sent.sort(), ['approval-0000000001', 'approval-0000000002']);
    assert.deepEqual(report.reconciled, []);
    assert.equal(provider.sendsFor('approval-0000000001'), 1);
    assert.equal(provider.sendsFor('approval-0000000002'), 1);

    const third = await start(v);
    assert.deepEqual(await third.outbox.recover(provider), { reconciled: [], sent: [], pending: [], held: [] });
    assert.equal(provider.sent.length, 2);
    assert.equal((await third.audit.verify()).ok, true);
  });

  it('after a crash between provider call and result record, recover finds the send and does not repeat it', async () => {
    const v = await volume();
    const first = await start(v);
    const provider = new FakeSendReceipts().hangAfterNextSend();
    await first.outbox.recover(provider);
    void first.outbox.send(request(7), provider);
    await waitFor(() => provider.sent.length === 1);
    // crash: the provider delivered the message, the process died before recording it

    const second = await start(v);
    assert.equal(second.outbox.get('approval-0000000007')?.status, 'pending');
    const report = await second.outbox.recover(provider);
    assert.deepEqual(report.reconciled, ['approval-0000000007']);
    assert.equal(provider.sendsFor('approval-0000000007'), 1);
    const outcome = await second.outbox.dispatch('approval-0000000007', provider);
    assert.equal(outcome.status === 'sent' && outcome.reconciled, true);
    assert.equal(provider.sendsFor('approval-0000000007'), 1);
    const results = (await second.audit.read()).filter((record) => record.result === 'success');
    assert.equal(results.length, 1);
    assert.equal(results[0]?.parameters.reconciled, true);
  });

  it('repeating a request with the same key returns the same entry; a different message under it is refused', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    await outbox.send(request(3), provider);
    const again = await outbox.send(request(3), provider);
    assert.equal(again.status, 'sent');
    assert.equal(provider.sent.length, 1);
    await assert.rejects(
      outbox.enqueue(request(3, { message: { to: ['client3@example.com'], subject: 'Other', text: 'changed' } })),
      (error: unknown) => error instanceof FleetError && error.code === 'conflict',
    );
    assert.equal((await audit.read()).filter((record) => record.result === 'intended').length, 1);
    await outbox.close();
    await audit.close();
  });

  it('a timeout after the provider sent is never retried blindly: the lookup finds it', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    const provider = new FakeSendReceipts().failNextSend(new FleetError('timeout', 'provider did not answer'), { afterSending: true });
    await outbox.recover(provider);
    const outcome = await outbox.send(request(4), provider);
    assert.equal(outcome.status === 'sent' && outcome.reconciled, true);
    assert.equal(provider.sent.length, 1);
    assert.deepEqual(provider.calls, ['send:approval-0000000004', 'find:approval-0000000004']);
    await outbox.close();
    await audit.close();
  });

  it('transient errors back off exponentially with full jitter and check the provider before each retry', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    const provider = new FakeSendReceipts()
      .failNextSend(Object.assign(new Error('rate limited'), { status: 429 }))
      .failNextSend(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    await outbox.recover(provider);
    const outcome = await outbox.send(request(5), provider);
    assert.equal(outcome.status === 'sent' && outcome.reconciled, false);
    assert.deepEqual(v.delays, [50, 100]);
    assert.deepEqual(provider.calls, [
      'send:approval-0000000005',
      'find:approval-0000000005',
      'send:approval-0000000005',
      'find:approval-0000000005',
      'send:approval-0000000005',
    ]);
    await outbox.close();
    await audit.close();
  });

  it('transient errors beyond the retry budget leave the send pending for the next pass', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v, { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1000 });
    const unavailable = new FleetError('unavailable', 'provider down');
    const provider = new FakeSendReceipts().failNextSend(unavailable).failNextSend(unavailable);
    await outbox.recover(provider);
    const outcome = await outbox.send(request(6), provider);
    assert.equal(outcome.status, 'deferred');
    assert.equal(outbox.get('approval-0000000006')?.status, 'pending');
    const report = await outbox.recover(provider);
    assert.deepEqual(report.sent, ['approval-0000000006']);
    assert.equal(provider.sent.length, 1);
    await outbox.close();
    await audit.close();
  });

  it('an authentication failure pauses sending, alerts once, survives a restart and resumes on request', async () => {
    const v = await volume();
    const first = await start(v);
    const provider = new FakeSendReceipts().failNextSend(new FleetError('unauthorized', 'token revoked'));
    await first.outbox.recover(provider);
    assert.equal((await first.outbox.send(request(8), provider)).status, 'paused');
    assert.equal((await first.outbox.send(request(9), provider)).status, 'paused');
    assert.deepEqual(v.paused, ['token revoked']);
    assert.equal(provider.calls.length, 1, 'no provider call while paused');

    const second = await start(v);
    assert.equal(second.outbox.paused, 'token revoked');
    assert.deepEqual((await second.outbox.recover(provider)).pending.sort(), ['approval-0000000008', 'approval-0000000009']);
    assert.equal(provider.sent.length, 0);
    await second.outbox.resume('admin:alice');
    const report = await second.outbox.recover(provider);
    assert.deepEqual(report.sent.sort(), ['approval-0000000008', 'approval-0000000009']);
    assert.equal(provider.sent.length, 2);
    const actions = (await second.audit.read()).map((record) => record.action_type);
    assert.ok(actions.includes('auth_failure') && actions.includes('pause') && actions.includes('resume'));
  });

  it('a message the provider rejects as malformed is quarantined; an unexplained error goes to human review', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    const provider = new FakeSendReceipts()
      .failNextSend(Object.assign(new Error('Invalid To header'), { status: 400 }))
      .failNextSend(new Error('something nobody expected'));
    await outbox.recover(provider);
    assert.equal((await outbox.send(request(1), provider)).status, 'quarantined');
    assert.equal((await outbox.send(request(2), provider)).status, 'review');
    assert.deepEqual(outbox.list('quarantined').map((entry) => entry.idempotencyKey), ['approval-0000000001']);
    assert.deepEqual(outbox.list('review').map((entry) => entry.idempotencyKey), ['approval-0000000002']);
    assert.equal(provider.sent.length, 0);
    assert.equal((await outbox.recover(provider)).sent.length, 0, 'held sends are not retried automatically');
    await outbox.release('approval-0000000002', 'admin:alice');
    assert.deepEqual((await outbox.recover(provider)).sent, ['approval-0000000002']);
    const actions = (await audit.read()).map((record) => record.action_type);
    assert.ok(actions.includes('quarantine') && actions.includes('review_queued') && actions.includes('send_released'));
    await outbox.close();
    await audit.close();
  });

  it('refuses header injection through the subject or extra headers', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    await outbox.recover(new FakeSendReceipts());
    await assert.rejects(
      outbox.enqueue(request(1, { message: { to: ['a@example.com'], subject: 'Hi\r\nBcc: all@evil.test', text: 'x' } })),
      (error: unknown) => error instanceof FleetError && error.code === 'invalid_input' && /subject/.test(error.message),
    );
    await assert.rejects(
      outbox.enqueue(request(2, { message: { to: ['a@example.com, b@evil.test'], subject: 'Hi', text: 'x' } })),
      /single email address/,
    );
    assert.equal((await audit.read()).length, 0, 'nothing audited for a refused message');
    await outbox.close();
    await audit.close();
  });

  it('keeps message content encrypted on disk', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v);
    await outbox.recover(new FakeSendReceipts());
    await outbox.enqueue(request(1));
    const raw = await readFile(join(v.dir, 'outbox', 'outbox.log'), 'utf8');
    assert.doesNotMatch(raw, /Dear client|Invoice|example\.com/);
    await outbox.close();
    await audit.close();
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 200 && !condition(); tries++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), 'condition not reached within 1 s');
}
