// The outbox marks each send as automatic (RFC 3834 Auto-Submitted, Exchange's X-Auto-Response-Suppress)
// from who let it go, and from nothing else: the request's headers can neither add nor remove the marks,
// and an entry an older journal holds unmarked is marked when it is sent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { OUTBOX_FILE, parseOutboxEvent, type OutboxEvent } from '../../../agent-image/src/services/outbox/outbox-events.ts';
import { Outbox, type SendRequest } from '../../../agent-image/src/services/outbox/outbox.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function volume(): Promise<{ dir: string; key: Buffer }> {
  const dir = await temporaryDirectory('outbox-marks');
  cleanups.push(dir.remove);
  return { dir: dir.path, key: randomBytes(32) };
}

async function start(): Promise<{ outbox: Outbox; provider: FakeSendReceipts }> {
  const { dir, key } = await volume();
  return open(dir, key);
}

async function open(dir: string, key: Buffer): Promise<{ outbox: Outbox; provider: FakeSendReceipts }> {
  const audit = await AuditLog.open({ directory: join(dir, 'audit'), keys: key });
  const outbox = await Outbox.open({ directory: join(dir, 'outbox'), keys: key, audit, pause: await volumePause(dir, key, []), sleep: async () => {} });
  cleanups.push(() => outbox.close());
  const provider = new FakeSendReceipts();
  await outbox.recover(provider);
  return { outbox, provider };
}

function request(index: number, overrides: Partial<SendRequest> = {}): SendRequest {
  return {
    message: { to: [`kim${index}@partner.example`], subject: `Re: Invoice ${index}`, text: 'Thank you, received.' },
    idempotencyKey: `re-marks-000000000${index}`,
    actor: 'agent',
    approvalStatus: 'auto_approved',
    approvedBy: 'policy',
    ...overrides,
  };
}

const marksOf = (headers: Record<string, string>) => ({ autoSubmitted: headers['Auto-Submitted'] ?? null, suppress: headers['X-Auto-Response-Suppress'] ?? null });

describe('the outbox marks automatic sends', () => {
  it('a reply the gate let go alone is auto-replied, a notice auto-generated, a human-approved or edited one unmarked', async () => {
    const { outbox, provider } = await start();
    await outbox.send(request(1), provider);
    await outbox.send(request(2, { actor: 'system', approvalStatus: 'not_required', approvedBy: null }), provider);
    await outbox.send(request(3, { approvalStatus: 'approved', approvedBy: 'admin:boss' }), provider);
    await outbox.send(request(4, { approvalStatus: 'edited', approvedBy: 'admin:boss' }), provider);
    assert.deepEqual(
      provider.sent.map((entry) => marksOf(entry.message.headers)),
      [
        { autoSubmitted: 'auto-replied', suppress: 'OOF, AutoReply' },
        { autoSubmitted: 'auto-generated', suppress: 'OOF, AutoReply' },
        { autoSubmitted: null, suppress: null },
        { autoSubmitted: null, suppress: null },
      ],
    );
    assert.deepEqual(marksOf(outbox.get('re-marks-0000000001')?.message.headers ?? {}), { autoSubmitted: 'auto-replied', suppress: 'OOF, AutoReply' }, 'the entry holds what is sent');
  });

  it("the request's own headers neither mark a human's send nor unmark an automatic one", async () => {
    const { outbox, provider } = await start();
    const forged = { 'auto-submitted': 'auto-replied', 'X-AUTO-RESPONSE-SUPPRESS': 'All' };
    await outbox.send(request(1, { approvalStatus: 'approved', approvedBy: 'admin:boss', message: { ...request(1).message, headers: forged } }), provider);
    await outbox.send(request(2, { message: { ...request(2).message, headers: { 'Auto-Submitted': 'no' } } }), provider);
    const [human, automatic] = provider.sent.map((entry) => entry.message.headers);
    assert.deepEqual(Object.keys(human ?? {}), [IDEMPOTENCY_HEADER]);
    assert.deepEqual(marksOf(automatic ?? {}), { autoSubmitted: 'auto-replied', suppress: 'OOF, AutoReply' });
  });

  it('the marks are not content: the same request repeated with other marks is the same entry, not a conflict', async () => {
    const { outbox } = await start();
    const first = await outbox.enqueue(request(1));
    const again = await outbox.enqueue(request(1, { message: { ...request(1).message, headers: { 'Auto-Submitted': 'no' } } }));
    assert.equal(again.contentHash, first.contentHash);
    assert.equal(outbox.list().length, 1);
  });

  it('an automatic send an older journal holds unmarked goes out marked after a restart', async () => {
    const { dir, key } = await volume();
    const { journal } = await EncryptedJournal.open<OutboxEvent>({ directory: join(dir, 'outbox'), file: OUTBOX_FILE, purpose: 'outbox', keys: KeyRing.from(key), parse: parseOutboxEvent });
    const unmarked = { to: ['kim@partner.example'], cc: [], bcc: [], subject: 'Re: Invoice 9', text: 'Thank you.', html: null, inReplyTo: null, threadId: null, headers: { [IDEMPOTENCY_HEADER]: 're-old-0000000009' } };
    await journal.append({ type: 'intent', at: new Date(0).toISOString(), key: 're-old-0000000009', message: unmarked, contentHash: 'a'.repeat(64), actor: 'agent', approvalStatus: 'auto_approved', approvedBy: 'policy' });
    await journal.close();
    const { provider } = await open(dir, key);
    assert.equal(provider.sent.length, 1, 'recovery sent the pending entry');
    assert.deepEqual(marksOf(provider.sent[0]?.message.headers ?? {}), { autoSubmitted: 'auto-replied', suppress: 'OOF, AutoReply' });
  });
});
