// A send refused because the mailbox grant was replaced while the agent ran (GrantReplacedError) went out
// nowhere: it waits, untouched, for the connection to be built again and the new grant's account checked.
// It is not retried against a client that refuses every call, nor recorded as a provider error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrantReplacedError } from '../../../agent-image/src/ports/mail-provider.ts';
import type { OutboundMessage, SendReceipts } from '../../../agent-image/src/ports/send-receipts.ts';
import { DEFAULT_BACKOFF } from '../../../agent-image/src/services/outbox/backoff.ts';
import { attemptSend } from '../../../agent-image/src/services/outbox/send-attempt.ts';

void test('a send refused by a replaced grant is paused after one call: no retry, no sleep, no error recorded', async () => {
  let calls = 0;
  const provider: SendReceipts = {
    findSentByIdempotencyKey: async () => {
      calls++;
      throw new GrantReplacedError('gmail: another grant was stored before a token refresh');
    },
    send: async () => {
      calls++;
      throw new GrantReplacedError('gmail: another grant was stored before a token refresh');
    },
  };
  const errors: unknown[] = [];
  const sleeps: number[] = [];
  const result = await attemptSend('key-1', {} as OutboundMessage, provider, false, {
    backoff: DEFAULT_BACKOFF,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    paused: () => null,
    onError: (error) => errors.push(error),
  });
  assert.deepEqual(result, { kind: 'paused', reason: 'gmail: another grant was stored before a token refresh' });
  assert.equal(calls, 1);
  assert.deepEqual(sleeps, []);
  assert.deepEqual(errors, []);
});
