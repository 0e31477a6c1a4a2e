// Earlier messages of a thread are shown to the drafter as their own text, without the history they
// quote. A sender chooses those messages (up to megabytes each) and their lines: finding where the
// history starts must cost what the drafter is shown, not what the sender wrote.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { MODEL_BODY_LIMIT, THREAD_TEXT_LIMIT, threadForModel } from '../../../agent-image/src/services/mail-loop/email-for-model.ts';

const at = new Date('2026-03-02T09:00:00Z');
function message(id: string, textBody: string): MailMessage {
  return {
    id, threadId: 't-1', from: { name: null, address: 'eve@evil.example' }, to: [], cc: [], replyTo: [], subject: `subject ${id}`, date: at, messageId: `<${id}@evil.example>`,
    inReplyTo: null, references: [], listId: null, autoSubmitted: null, precedence: null, autoReplyHeaders: {}, idempotencyKey: null, authenticationResults: [],
    textBody, receivedAt: at, labels: [],
  };
}

describe('thread context: quoted history of large earlier messages', () => {
  it('the history is looked for only in the part of an earlier message a drafter could be shown, not in all the sender wrote', () => {
    // Each line costs the history search thousands of regex steps: bounding what it reads bounds its time.
    const history = '\n\nOn Mon, Bob wrote:\n> earlier';
    const beyondReach = message('a', `${'x'.repeat(MODEL_BODY_LIMIT + 10_000)}${history}`);
    const withinReach = message('b', `${'y'.repeat(MODEL_BODY_LIMIT - 1_000)}${history}`);
    const seen = threadForModel([beyondReach, withinReach, message('m-1', 'Any news?')], message('m-1', 'Any news?'));
    const notShown = (body: string | undefined) => Number(/\[… (\d+) more characters not shown\]$/.exec(body ?? '')?.[1]);
    assert.equal(notShown(seen[0]?.body), MODEL_BODY_LIMIT - THREAD_TEXT_LIMIT, 'only the first MODEL_BODY_LIMIT characters were read');
    assert.equal(notShown(seen[1]?.body), MODEL_BODY_LIMIT - 1_000 - THREAD_TEXT_LIMIT, 'a history within them is still split off');
  });

  it('what is shown of an earlier message is unchanged: its own text before the history, bounded', () => {
    const long = `${'x'.repeat(THREAD_TEXT_LIMIT * 40)}\n\nOn Mon, Bob wrote:\n> earlier`;
    const short = 'Our answer.\n\nOn Mon, Bob wrote:\n> First from Bob.';
    const seen = threadForModel([message('a', long), message('b', short), message('m-1', 'Any news?')], message('m-1', 'Any news?'));
    assert.equal(seen[0]?.body.slice(0, THREAD_TEXT_LIMIT), 'x'.repeat(THREAD_TEXT_LIMIT));
    assert.match(seen[0]?.body ?? '', /\n\[… \d+ more characters not shown\]$/);
    assert.equal(seen[1]?.body, 'Our answer.');
  });
});
