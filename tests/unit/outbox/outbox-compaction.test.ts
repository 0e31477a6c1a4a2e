import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { buildOutboundMessage } from '../../../agent-image/src/services/outbox/outbound-message.ts';
import { OUTBOX_FILE, parseOutboxEvent, type OutboxEvent } from '../../../agent-image/src/services/outbox/outbox-events.ts';
import { KEEP_WHOLE_FINISHED } from '../../../agent-image/src/services/outbox/outbox-state.ts';
import { Outbox, type SendRequest } from '../../../agent-image/src/services/outbox/outbox.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const BODY = 'x'.repeat(4000);

function request(index: number): SendRequest {
  return {
    message: { to: [`client${index}@example.com`], subject: `Note ${index}`, text: `${BODY} ${index}` },
    idempotencyKey: `compact-${index}`,
    actor: 'agent',
    approvalStatus: 'approved',
    approvedBy: 'admin:alice',
  };
}

/** A journal as years of sending leave it: one send still pending, then `sent` sends, each intent and outcome. */
async function writeHistory(directory: string, keys: KeyRing, sent: number): Promise<void> {
  const { journal } = await EncryptedJournal.open<OutboxEvent>({ directory, file: OUTBOX_FILE, purpose: 'outbox', keys, parse: parseOutboxEvent });
  const at = new Date(0).toISOString();
  const intent = (index: number): OutboxEvent => {
    const { message, contentHash } = buildOutboundMessage(request(index).message, `compact-${index}`, 'approved');
    return { type: 'intent', at, key: `compact-${index}`, message, contentHash, actor: 'agent', approvalStatus: 'approved', approvedBy: 'admin:alice' };
  };
  const writes = [journal.append(intent(0))];
  for (let index = 1; index <= sent; index++) {
    writes.push(journal.append(intent(index)));
    writes.push(journal.append({ type: 'sent', at, key: `compact-${index}`, receipt: { providerMessageId: `m-${index}`, sentAt: at }, reconciled: false }));
  }
  await Promise.all(writes);
  await journal.close();
}

describe('outbox journal compaction', () => {
  it('drops the bodies of old finished sends but keeps every key, and a pending send whole', async () => {
    const dir = await temporaryDirectory('outbox-compaction');
    cleanups.push(dir.remove);
    const key = randomBytes(32);
    const outboxDir = join(dir.path, 'outbox');
    const sent = KEEP_WHOLE_FINISHED * 3;
    await writeHistory(outboxDir, KeyRing.single(key), sent);
    const before = (await stat(join(outboxDir, OUTBOX_FILE))).size;

    const audit = await AuditLog.open({ directory: join(dir.path, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: outboxDir, keys: key, audit, pause: await volumePause(dir.path, key) });
    assert.ok((await stat(join(outboxDir, OUTBOX_FILE))).size < before / 2, 'the journal was not compacted');
    assert.equal(outbox.list('sent').length, sent);
    assert.equal(outbox.get('compact-1')?.message.text, '', 'an old body was kept');
    assert.equal(outbox.get(`compact-${sent}`)?.message.text, `${BODY} ${sent}`);
    assert.equal(outbox.get('compact-0')?.message.text, `${BODY} 0`);

    const provider = new FakeSendReceipts();
    assert.deepEqual((await outbox.recover(provider)).sent, ['compact-0']);
    assert.equal(provider.sent[0]?.message.text, `${BODY} 0`);
    // An old key asked again is the send it was, not a new one.
    assert.equal((await outbox.send(request(1), provider)).status, 'sent');
    assert.equal(provider.sent.length, 1);
    await outbox.close();

    // Mostly live entries now: a restart does not rewrite the whole journal again.
    const compacted = await stat(join(outboxDir, OUTBOX_FILE));
    const reopened = await Outbox.open({ directory: outboxDir, keys: key, audit, pause: await volumePause(dir.path, key) });
    assert.equal((await stat(join(outboxDir, OUTBOX_FILE))).ino, compacted.ino, 'the journal was rewritten again');
    assert.equal(reopened.list('sent').length, sent + 1);
    assert.equal(reopened.get('compact-0')?.message.headers[IDEMPOTENCY_HEADER], 'compact-0');
    await reopened.close();
    await audit.close();
  });
});
