// The thread an admin reads on an approval page: what it labels "From your mailbox" must be the client's
// own mail, and its order the order the mail arrived, whatever a sender wrote in From or Date.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { unreadableThreadEntry } from '../../../agent-image/src/adapters/unreadable-thread-entry.ts';
import type { MailMessage, MailProvider } from '../../../agent-image/src/ports/mail-provider.ts';
import { MailMemoryBudget } from '../../../agent-image/src/services/mail-loop/mail-memory-budget.ts';
import { threadOf } from '../../../agent-image/src/services/runtime/approval-view.ts';

const MAILBOX = 'sam@acme.example';

function message(id: string, from: string, receivedAt: string, options: { date?: string; labels?: string[] } = {}): MailMessage {
  return {
    ...unreadableThreadEntry({ id, threadId: 't1', receivedAt: new Date(receivedAt) }),
    from: { address: from, name: null },
    to: [{ address: from === MAILBOX ? 'eve@partner.example' : MAILBOX, name: null }],
    subject: `subject ${id}`,
    date: options.date === undefined ? null : new Date(options.date),
    textBody: `body ${id}`,
    labels: options.labels ?? ['INBOX'],
  };
}

function providerOf(thread: MailMessage[]): MailProvider {
  return {
    getMessage: async (id: string) => thread.find((entry) => entry.id === id) ?? thread[0],
    getThread: async () => thread,
  } as unknown as MailProvider;
}

describe('the approval page’s thread', () => {
  const thread = [
    message('m1', 'eve@partner.example', '2026-11-20T10:00:00Z'),
    message('m2', MAILBOX, '2026-11-20T11:00:00Z', { labels: ['SENT'] }),
    // A stranger writes the client's address as From, and a Date that would put it last.
    message('m3', MAILBOX, '2026-11-20T12:00:00Z', { date: '2030-01-01T00:00:00Z' }),
    unreadableThreadEntry({ id: 'm4', threadId: 't1', receivedAt: new Date('2026-11-20T13:00:00Z') }),
    message('m5', 'eve@partner.example', '2026-11-20T14:00:00Z'),
  ];

  test('Gmail: only mail carrying the SENT mark is "From your mailbox"; a forged From and an unreadable entry are not', async () => {
    const { thread: shown, available } = await threadOf(providerOf(thread), 'm5', MAILBOX, 'SENT', createSilentLogger());
    assert.equal(available, true);
    assert.deepEqual(
      shown.map((entry) => [entry.subject || '(unreadable)', entry.fromCorrespondent]),
      [['subject m1', true], ['subject m2', false], ['subject m3', true], ['(unreadable)', true], ['subject m5', true]],
    );
  });

  test('in the order the provider received the mail, not the order of the Date headers', async () => {
    const { thread: shown } = await threadOf(providerOf(thread), 'm5', MAILBOX, 'SENT', createSilentLogger());
    assert.deepEqual(shown.map((entry) => entry.subject), ['subject m1', 'subject m2', 'subject m3', '', 'subject m5']);
    assert.equal(shown.at(-1)?.subject, 'subject m5');
  });

  test('Graph (no sent mark on inbox mail): From the mailbox is the client’s, as the provider gives no better proof', async () => {
    const { thread: shown } = await threadOf(providerOf(thread), 'm5', MAILBOX, null, createSilentLogger());
    assert.equal(shown.find((entry) => entry.subject === 'subject m3')?.fromCorrespondent, false);
  });

  test('the reads run as one download of the agent’s memory for mail, queued behind the mail loop’s', async () => {
    const memory = new MailMemoryBudget();
    let release = (): void => undefined;
    const loopDownload = memory.download(() => new Promise<void>((resolve) => (release = resolve)));
    let read = false;
    const counting = providerOf(thread);
    const provider = { ...counting, getMessage: async (id: string) => ((read = true), counting.getMessage(id)) } as MailProvider;
    const shown = threadOf(provider, 'm5', MAILBOX, 'SENT', createSilentLogger(), (work) => memory.download(work));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(read, false, 'no read while the mail loop downloads');
    release();
    await loopDownload;
    assert.equal((await shown).thread.length, 5);
    assert.equal(read, true);
  });
});
