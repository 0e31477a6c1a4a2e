import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { IDEMPOTENCY_HEADER } from '../../../agent-image/src/domain/idempotency-key.ts';
import { AuditLog } from '../../../agent-image/src/services/audit-log/audit-log.ts';
import { sealEnvelope } from '../../../agent-image/src/services/audit-log/envelope.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { buildOutboundMessage } from '../../../agent-image/src/services/outbox/outbound-message.ts';
import type { OutboxEvent } from '../../../agent-image/src/services/outbox/outbox-events.ts';
import { replayOutbox } from '../../../agent-image/src/services/outbox/outbox-state.ts';
import { Outbox } from '../../../agent-image/src/services/outbox/outbox.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { EncryptedJournal } from '../../../agent-image/src/services/runtime/encrypted-journal.ts';
import { temporaryDirectory } from '../audit/helpers.ts';
import { FakeSendReceipts } from './fake-send-receipts.ts';
import { volumePause } from './volume-pause.ts';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function directory(): Promise<string> {
  const dir = await temporaryDirectory('outbox-parts');
  cleanups.push(dir.remove);
  return dir.path;
}

const AT = '2026-03-02T10:00:00.000Z';
const built = buildOutboundMessage({ to: ['kim@partner.example'], subject: 'Invoice', text: 'Attached.' }, 'key-0000000001');
const intent: OutboxEvent = {
  type: 'intent',
  at: AT,
  key: 'key-0000000001',
  message: built.message,
  contentHash: built.contentHash,
  actor: 'agent',
  approvalStatus: 'auto_approved',
  approvedBy: 'policy',
};

describe('outbound message builder', () => {
  it('fills in the optional parts and carries the idempotency key in its header', () => {
    const { message, contentHash } = buildOutboundMessage({ to: ['a@example.com'], subject: 'Hi', text: 'x', headers: { 'X-Extra': '1' } }, 'af-123');
    assert.deepEqual(message, {
      to: ['a@example.com'],
      cc: [],
      bcc: [],
      subject: 'Hi',
      text: 'x',
      html: null,
      inReplyTo: null,
      threadId: null,
      headers: { 'X-Extra': '1', [IDEMPOTENCY_HEADER]: 'af-123' },
    });
    assert.match(contentHash, /^[0-9a-f]{64}$/);
  });

  it('hashes the content only: other recipients, same hash; other text, another hash', () => {
    const one = buildOutboundMessage({ to: ['a@example.com'], subject: 'Hi', text: 'x' }, 'k-1');
    const other = buildOutboundMessage({ to: ['b@example.com'], subject: 'Hi', text: 'x' }, 'k-2');
    const changed = buildOutboundMessage({ to: ['a@example.com'], subject: 'Hi', text: 'y' }, 'k-1');
    assert.equal(one.contentHash, other.contentHash);
    assert.notEqual(one.contentHash, changed.contentHash);
  });

  it('refuses a bad idempotency key or a malformed message as invalid_input', () => {
    const invalid = (error: unknown) => error instanceof FleetError && error.code === 'invalid_input';
    assert.throws(() => buildOutboundMessage({ to: ['a@example.com'], subject: 'Hi', text: 'x' }, 'bad key\r\n'), invalid);
    assert.throws(() => buildOutboundMessage({ to: ['a@example.com'], subject: 'Hi\r\nBcc: x@evil.test', text: 'x' }, 'k-1'), invalid);
  });
});

describe('outbox state reducer', () => {
  it('replays intent, held, released and sent into one entry', () => {
    const receipt = { providerMessageId: 'p-1', sentAt: AT };
    const entries = replayOutbox([
      intent,
      { type: 'held', at: AT, key: intent.key, status: 'review', category: 'logic', error: { code: null, message: 'odd' } },
      { type: 'released', at: AT, key: intent.key, by: 'admin:alice' },
      { type: 'sent', at: AT, key: intent.key, receipt, reconciled: true },
    ]);
    const entry = entries.get(intent.key);
    assert.equal(entry?.status, 'sent');
    assert.deepEqual(entry?.receipt, receipt);
    assert.equal(entry?.reconciled, true);
    assert.deepEqual(entry?.lastError, { category: 'logic', code: null, message: 'odd' });
  });

  it('ignores events about unknown entries and the old pause events', () => {
    const entries = replayOutbox([
      { type: 'sent', at: AT, key: 'nobody', receipt: { providerMessageId: 'p', sentAt: AT }, reconciled: false },
      { type: 'paused', at: AT, reason: 'token revoked' },
      intent,
      { type: 'resumed', at: AT, by: 'admin:alice' },
    ]);
    assert.deepEqual([...entries.keys()], [intent.key]);
    assert.equal(entries.get(intent.key)?.status, 'pending');
  });
});

describe('outbox pause and journal', () => {
  it('an outbox journal with the old pause events still opens, and they pause nothing', async () => {
    const dir = await directory();
    const key = randomBytes(32);
    const keys = KeyRing.single(key);
    // Written as outboxes with a pause flag of their own wrote it: one envelope per line, purpose `outbox`.
    const events: OutboxEvent[] = [intent, { type: 'paused', at: AT, reason: 'token revoked' }];
    const lines = events.map((event, index) => sealEnvelope(keys, 'outbox', index + 1, Buffer.from(JSON.stringify(event), 'utf8')).toString('base64'));
    await mkdir(join(dir, 'outbox'), { recursive: true });
    await writeFile(join(dir, 'outbox', 'outbox.log'), `${lines.join('\n')}\n`);
    const audit = await AuditLog.open({ directory: join(dir, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: join(dir, 'outbox'), keys: key, audit, pause: await volumePause(dir, key) });
    assert.equal(outbox.paused, null);
    const provider = new FakeSendReceipts();
    assert.deepEqual((await outbox.recover(provider)).sent, [intent.key]);
    await outbox.close();
    await audit.close();
  });

  it('one pause flag: the agent paused for refused credentials stops the outbox, and its resume lets it send', async () => {
    const dir = await directory();
    const key = randomBytes(32);
    // The agent's own pause (the mailbox refused its grant during a sync), in the state store.
    const state = await AgentStateStore.open({ directory: join(dir, 'state'), keys: KeyRing.single(key) });
    await state.setPause({ reason: 'auth', since: AT, detail: 'revoked during sync' });
    await state.close();
    const audit = await AuditLog.open({ directory: join(dir, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: join(dir, 'outbox'), keys: key, audit, pause: await volumePause(dir, key) });
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    assert.equal(outbox.paused, 'revoked during sync');
    const request = { message: { to: ['a@example.com'], subject: 'Hi', text: 'x' }, actor: 'agent', approvalStatus: 'auto_approved' as const, approvedBy: 'policy' };
    assert.equal((await outbox.send(request, provider)).status, 'paused');
    assert.deepEqual(provider.calls, [], 'no provider call while paused');
    await outbox.resume('admin:alice');
    assert.equal(outbox.paused, null);
    assert.equal((await outbox.recover(provider)).sent.length, 1);
    await outbox.close();
    await audit.close();
  });

  it('a rate-limit pause does not stop the outbox (admin alerts still go out)', async () => {
    const dir = await directory();
    const key = randomBytes(32);
    const state = await AgentStateStore.open({ directory: join(dir, 'state'), keys: KeyRing.single(key) });
    await state.setPause({ reason: 'rate_limit', since: AT });
    await state.close();
    const audit = await AuditLog.open({ directory: join(dir, 'audit'), keys: key });
    const outbox = await Outbox.open({ directory: join(dir, 'outbox'), keys: key, audit, pause: await volumePause(dir, key) });
    const provider = new FakeSendReceipts();
    await outbox.recover(provider);
    assert.equal(outbox.paused, null);
    const outcome = await outbox.send({ message: { to: ['a@example.com'], subject: 'Hi', text: 'x' }, actor: 'system', approvalStatus: 'not_required', approvedBy: null }, provider);
    assert.equal(outcome.status, 'sent');
    await outbox.close();
    await audit.close();
  });

  it('a journal cannot be passed off as another kind: an outbox log does not open as state', async () => {
    const dir = await directory();
    const keys = KeyRing.single(randomBytes(32));
    const opened = await EncryptedJournal.open<OutboxEvent>({ directory: dir, file: 'outbox.log', purpose: 'outbox', keys, parse: (value) => value as OutboxEvent });
    await opened.journal.append(intent);
    await opened.journal.close();
    await assert.rejects(
      EncryptedJournal.open({ directory: dir, file: 'outbox.log', purpose: 'state', keys, parse: (value) => value }),
      (error: unknown) => error instanceof FleetError && error.code === 'integrity',
    );
    const reopened = await EncryptedJournal.open<OutboxEvent>({ directory: dir, file: 'outbox.log', purpose: 'outbox', keys, parse: (value) => value as OutboxEvent });
    assert.deepEqual(reopened.events, [intent]);
    assert.equal(reopened.torn, null);
    await reopened.journal.close();
  });
});
