// A thread too large to list in one answer is read message by message; a sender who replies into it many
// times with large messages must not make each read hold them all in the agent's memory. Together the
// one-by-one reads download no more than the list could have, newest messages first.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphAnswerTooLargeError } from '../../../agent-image/src/adapters/graph/graph-call-scope.ts';
import { readGraphThread, type GraphThreadReads } from '../../../agent-image/src/adapters/graph/graph-thread.ts';
import { UNREADABLE_THREAD_ENTRY_TEXT } from '../../../agent-image/src/adapters/unreadable-thread-entry.ts';

const LIST_MAX_BYTES = 20_000;

function thread(count: number, textBytes: number) {
  // Newest first, as the adapter asks Graph for them.
  return Array.from({ length: count }, (_, index) => {
    const at = new Date(Date.UTC(2025, 5, 2, 9, 0, 0) + (count - index) * 60_000).toISOString();
    return {
      id: `m${String(count - index).padStart(2, '0')}`,
      conversationId: 'c1',
      receivedDateTime: at,
      from: { emailAddress: { address: 'eve@evil.example' } },
      body: { contentType: 'text', content: 'x'.repeat(textBytes) },
    };
  });
}

function reads(messages: ReturnType<typeof thread>, downloaded: { bytes: number }): GraphThreadReads {
  return {
    list: async (fields, maxResponseBytes) => {
      const answer = { value: fields === 'id,receivedDateTime' ? messages.map(({ id, receivedDateTime }) => ({ id, receivedDateTime })) : messages };
      if (Buffer.byteLength(JSON.stringify(answer)) > maxResponseBytes) throw new GraphAnswerTooLargeError(maxResponseBytes);
      return answer;
    },
    get: async (id, maxResponseBytes) => {
      const message = messages.find((candidate) => candidate.id === id);
      const size = Buffer.byteLength(JSON.stringify(message));
      if (size > maxResponseBytes) throw new GraphAnswerTooLargeError(maxResponseBytes);
      downloaded.bytes += size;
      return message;
    },
    sentItemsId: async () => null,
    logger: createSilentLogger(),
  };
}

describe('Graph thread read one by one', () => {
  it('downloads no more than one list may, and the newest messages are the ones read', async () => {
    const messages = thread(50, 3_000);
    const downloaded = { bytes: 0 };
    const read = await readGraphThread(reads(messages, downloaded), 'c1', LIST_MAX_BYTES);
    assert.ok(downloaded.bytes <= LIST_MAX_BYTES, `${downloaded.bytes} bytes downloaded`);
    assert.equal(read.length, 50, 'every message has its place, read or not');
    const readable = read.filter((entry) => entry.textBody !== UNREADABLE_THREAD_ENTRY_TEXT).map((entry) => entry.id);
    assert.ok(readable.length >= 5, readable.join(','));
    assert.deepEqual(readable, read.slice(-readable.length).map((entry) => entry.id), 'the readable ones are the newest');
  });

});
