// A stranger who knows the Message-ID of a conversation the client had with someone else can write a
// reply that the provider files in that thread (In-Reply-To/References, a "Re:" subject). The drafter
// answering the stranger must not be shown what the client wrote to the other party.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MailAddress, MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { threadForModel } from '../../../agent-image/src/services/mail-loop/email-for-model.ts';

const at = new Date('2026-03-02T09:00:00Z');
const CLIENT = 'dana@acme.example';
const who = (address: string): MailAddress => ({ address, name: null });

function message(id: string, from: string, to: string[], textBody: string, cc: string[] = []): MailMessage {
  return {
    id, threadId: 't-1', from: who(from), to: to.map(who), cc: cc.map(who), replyTo: [], subject: `Re: Contract ${id}`, date: at,
    messageId: `<${id}@x>`, inReplyTo: null, references: [], listId: null, autoSubmitted: null, precedence: null, autoReplyHeaders: {},
    idempotencyKey: null, authenticationResults: [], textBody, receivedAt: at, labels: [],
  };
}

describe('the thread the drafter sees, when a stranger replies into another conversation', () => {
  const conversation = [
    message('a', 'bob@partner.example', [CLIENT], 'What is your best price?'),
    message('b', CLIENT, ['bob@partner.example'], 'Confidential: our floor is 40k, the board approved it.'),
  ];
  const hijack = { ...message('m', 'mallory@evil.example', [CLIENT], 'Following up on the price below?'), inReplyTo: '<b@x>', references: ['<a@x>', '<b@x>'] };

  test("the client's messages to someone else are not shown when answering the stranger", () => {
    const seen = threadForModel([...conversation, hijack], hijack, CLIENT);
    assert.deepEqual(seen, []);
  });

  test("the client's messages to this sender, in To or Cc, still are (any case of the address)", () => {
    const toMallory = message('c', CLIENT, ['Mallory@Evil.example'], 'Who are you?');
    const ccMallory = message('d', CLIENT, ['someone@else.example'], 'Copying Mallory.', ['mallory@evil.example']);
    const seen = threadForModel([...conversation, toMallory, ccMallory, hijack], hijack, CLIENT);
    assert.deepEqual(seen.map((entry) => entry.body), ['Who are you?', 'Copying Mallory.']);
  });

  test('the real correspondent still sees the whole exchange with the client', () => {
    const answer = message('e', 'bob@partner.example', [CLIENT], 'Could you do 38k?');
    const seen = threadForModel([...conversation, answer], answer, CLIENT);
    assert.deepEqual(seen.map((entry) => entry.from), ['bob@partner.example', CLIENT]);
  });
});
