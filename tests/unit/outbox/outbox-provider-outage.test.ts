import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { OutboundMessage, SendReceipt } from '../../../agent-image/src/ports/send-receipts.ts';
import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { ProviderThrottledError } from '../../../agent-image/src/ports/mail-provider.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { Outbox, type SendRequest } from '../../../agent-image/src/services/outbox/outbox.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** A provider that answers 503 to every call about the keys in `failing` (all keys when it holds '*'). */
class OutageProvider extends FakeSendReceipts {
  readonly failing = new Set<string>();

  private check(key: string): void {
    this.calls.push(`call:${key}`);
    if (this.failing.has('*') || this.failing.has(key)) throw new FleetError('unavailable', 'provider answered 503');
  }

  override async findSentByIdempotencyKey(key: string): Promise<SendReceipt | null> {
    this.check(key);
    return super.findSentByIdempotencyKey(key);
  }

  override async send(message: OutboundMessage): Promise<SendReceipt> {
    const key = message.headers[IDEMPOTENCY_HEADER] ?? '';
    this.check(key);
    return super.send(message);
  }
}

async function volume() {
  const dir = await temporaryDirectory('outbox-outage');
  cleanups.push(dir.remove);
  return { dir: dir.path, key: randomBytes(32) };
}

type OutboxOptions = Parameters<typeof Outbox.open>[0];

/** An outbox on the volume that retries at once (unless `options` say otherwise), and its audit log. */
async function start(v: { dir: string; key: Buffer }, maxDeferrals?: number, options: Partial<Pick<OutboxOptions, 'backoff' | 'sleep'>> = {}) {
  const audit = await AuditLog.open({ directory: join(v.dir, 'audit'), keys: v.key });
  const outbox = await Outbox.open({
    directory: join(v.dir, 'outbox'),
    keys: v.key,
    audit,
    backoff: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    random: () => 0,
    sleep: async () => undefined,
    pause: await volumePause(v.dir, v.key),
    ...(maxDeferrals === undefined ? {} : { maxDeferrals }),
    ...options,
  });
  return { audit, outbox };
}

function request(index: number): SendRequest {
  return {
    message: { to: [`client${index}@example.com`], subject: `Note ${index}`, text: `Hello ${index}` },
    idempotencyKey: `outage-${index}`,
    actor: 'agent',
    approvalStatus: 'approved',
    approvedBy: 'admin:alice',
  };
}

describe('outbox: a provider that keeps failing', () => {
  it('one recovery pass during an outage makes one send’s worth of calls, not one per pending send', async () => {
    const v = await volume();
    const { outbox } = await start(v);
    const provider = new OutageProvider();
    await outbox.recover(provider);
    for (let index = 0; index < 10; index++) await outbox.enqueue(request(index));
    provider.failing.add('*');
    const before = provider.calls.length;
    const report = await outbox.recover(provider);
    assert.equal(report.pending.length, 10);
    const calls = provider.calls.slice(before).filter((call) => call.startsWith('call:'));
    assert.equal(calls.length, 3, `calls in the pass: ${calls.join(', ')}`);
  });

  it('a send the provider keeps failing does not starve the others', async () => {
    const v = await volume();
    const { outbox } = await start(v);
    const provider = new OutageProvider();
    await outbox.recover(provider);
    for (let index = 0; index < 3; index++) await outbox.enqueue(request(index));
    provider.failing.add('outage-0');
    const first = await outbox.recover(provider);
    assert.deepEqual(first.pending.sort(), ['outage-0', 'outage-1', 'outage-2']);
    const second = await outbox.recover(provider);
    assert.deepEqual(second.sent.sort(), ['outage-1', 'outage-2']);
    assert.deepEqual(second.pending, ['outage-0']);
  });

  it('a send deferred pass after pass is held for human review, audited, and not tried again', async () => {
    const v = await volume();
    const { audit, outbox } = await start(v, 3);
    const provider = new OutageProvider();
    await outbox.recover(provider);
    await outbox.enqueue(request(7));
    provider.failing.add('*');
    for (let pass = 0; pass < 2; pass++) assert.deepEqual((await outbox.recover(provider)).pending, ['outage-7']);
    assert.deepEqual((await outbox.recover(provider)).held, ['outage-7']);
    assert.equal(outbox.get('outage-7')?.status, 'review');
    assert.equal(outbox.get('outage-7')?.lastError?.category, 'transient');
    const calls = provider.calls.length;
    await outbox.recover(provider);
    assert.equal(provider.calls.length, calls, 'a held send is not tried again');
    const records = await audit.read();
    assert.ok(records.some((record) => record.action_type === 'review_queued' && record.parameters['idempotency_key'] === 'outage-7'));
  });

  it('after a restart, a pending send the recovery pass left untried is looked up before it is sent', async () => {
    const v = await volume();
    const provider = new OutageProvider();
    const first = await start(v);
    await first.outbox.recover(provider);
    // Both sends reach the provider, but the answers are lost: the process stops with both pending.
    provider.failNextSend(new Error('lost answer'), { afterSending: true }).failNextSend(new Error('lost answer'), { afterSending: true });
    await first.outbox.send(request(1), provider);
    await first.outbox.send(request(2), provider);
    assert.equal(first.outbox.get('outage-1')?.status, 'review');
    await first.outbox.release('outage-1', 'admin:alice');
    await first.outbox.release('outage-2', 'admin:alice');
    await first.outbox.close();
    await first.audit.close();

    const second = await start(v);
    provider.failing.add('*');
    await second.outbox.recover(provider);
    provider.failing.clear();
    // A caller repeats one of them directly (an approval's execution, an alert's key) before the next pass.
    for (const key of ['outage-1', 'outage-2']) {
      const outcome = await second.outbox.dispatch(key, provider);
      assert.equal(outcome.status, 'sent');
      assert.equal(provider.sendsFor(key), 1, `${key} went out twice`);
    }
  });
});

describe('outbox: a provider that answers 429 with Retry-After', () => {
  async function throttled(retryAfterMs: number) {
    const v = await volume();
    const delays: number[] = [];
    const { outbox } = await start(v, undefined, {
      backoff: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 30_000 },
      sleep: async (milliseconds) => {
        delays.push(milliseconds);
      },
    });
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    for (let index = 0; index < 5; index++) provider.failNextSend(new ProviderThrottledError(429, retryAfterMs, 'rate limited'));
    const outcome = await outbox.send(request(9), provider);
    return { outcome, delays, provider };
  }

  it('waits at least as long as the provider asked before calling it again', async () => {
    const { outcome, delays } = await throttled(2000);
    assert.equal(outcome.status, 'deferred');
    assert.ok(delays.length > 0 && delays.every((delay) => delay >= 2000), `waited ${delays.join(', ')} ms`);
  });

  it('an absurd Retry-After defers the send at once: no hammering, no sleeping for days', async () => {
    const { outcome, delays, provider } = await throttled(10 * 365 * 86_400_000);
    assert.equal(outcome.status, 'deferred');
    assert.deepEqual(delays, []);
    assert.equal(provider.calls.filter((call) => call.startsWith('send:')).length, 1);
  });
});
