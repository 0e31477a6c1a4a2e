// The drafter is shown at most a few thousand characters of each earlier thread message, and the thread
// read for it is let go at once. V8 makes a cut of a long string a view that keeps the whole string:
// the minimised context, kept through the drafting model call, must not keep the megabytes of thread
// text it was cut from (measured on the heap after a full collection).
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import type { EmailForModel } from '../../../agent-image/src/ports/llm-client.ts';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { detachedHead, detachedText } from '../../../agent-image/src/services/mail-loop/detached-text.ts';
import { THREAD_TEXT_LIMIT, threadForModel } from '../../../agent-image/src/services/mail-loop/email-for-model.ts';
import { HELD_TEXT_CHARS, keptForWork } from '../../../agent-image/src/services/mail-loop/mail-memory-budget.ts';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

function entry(id: string, textBody: string): MailMessage {
  return {
    id, threadId: 't', from: { address: 'kim@partner.example', name: null }, to: [], cc: [], replyTo: [], subject: 'Re: plan', date: null,
    messageId: null, inReplyTo: null, references: [], listId: null, autoSubmitted: null, precedence: null, autoReplyHeaders: {},
    idempotencyKey: null, authenticationResults: [], textBody, receivedAt: new Date('2026-03-02T09:00:00Z'), labels: [],
  };
}

function heapUsed(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

describe('what outlives a read: the kept message and the thread context', () => {
  test('keeps none of the thread text it was cut from', () => {
    const before = heapUsed();
    // Three thread messages of 3 million two-byte characters (6 MiB each), read and let go.
    const read = (): EmailForModel[] => {
      const thread = [1, 2, 3].map((index) => entry(`e${index}`, `ж${String.fromCharCode(0x430 + index).repeat(3_000_000)}`));
      return threadForModel(thread, entry('answered', 'Thanks'));
    };
    const context = read();
    const kept = heapUsed() - before;
    assert.equal(context.length, 3);
    assert.ok(context.every((email) => email.body.length <= THREAD_TEXT_LIMIT + 100));
    assert.ok(kept < 2 * MiB, `the context keeps ${(kept / MiB).toFixed(1)} MiB`);
  });

  test('a message a work item keeps holds none of the body it was cut from', () => {
    const before = heapUsed();
    const read = (): MailMessage => keptForWork(entry('big', `ж${'и'.repeat(8_000_000)}`));
    const kept = read();
    const held = heapUsed() - before;
    assert.equal(kept.textBody.length, HELD_TEXT_CHARS);
    assert.ok(held < 2 * MiB, `the kept message holds ${(held / MiB).toFixed(1)} MiB`);
  });

  test('a detached copy is the same text, lone surrogates and all, and a head never splits a pair', () => {
    const text = `a\ud800b😀\udfffc`;
    assert.equal(detachedText(text), text);
    assert.equal(detachedHead('ab😀', 3), 'ab');
    assert.equal(detachedHead('ab😀', 4), 'ab😀');
    assert.equal(detachedHead('short', 10), 'short');
  });
});
