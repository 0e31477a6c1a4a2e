// Gmail reads a thread message by message. A sender who replies into a thread many times with messages
// just under the per-message bound must not make each read of the thread hold them all in the agent's
// memory (128 MiB): together the reads download no more than one message may be, newest first, and a
// message over what is left is an unreadable entry in its place. A message mailparser refuses, read on
// its own, is an error the mail loop can act on: invalid input, not retryable, with the parser's reason.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { UNREADABLE_THREAD_ENTRY_TEXT } from '../../../agent-image/src/adapters/unreadable-thread-entry.ts';

const MAILBOX = 'sam@acme.example';
/** What one message may be (gmail-mail-provider.ts), which the reads of a thread download together at most. */
const THREAD_MAX_BYTES = 10 * 1024 * 1024;
const ENTRY_BYTES = 1024 * 1024;
const START = Date.parse('2025-06-02T09:00:00Z');

interface Stored {
  raw: Buffer;
  at: number;
}

function mail(index: number, bodyBytes: number): Buffer {
  const headers = [`From: eve@evil.example`, `To: ${MAILBOX}`, `Subject: Re: Plan`, `Message-ID: <${index}@evil.example>`, 'Content-Type: text/plain'];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\nreply ${index}\r\n${'x'.repeat(bodyBytes)}\r\n`, 'utf8');
}

const parts = Array.from({ length: 1100 }, (_, index) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${index}\r\n`).join('');
const tooManyParts = Buffer.from(
  `From: eve@evil.example\r\nTo: ${MAILBOX}\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`,
  'utf8',
);

/** A loopback Gmail serving `stored` as thread t1, counting the raw bytes it hands out. */
async function fakeGmail(stored: Map<string, Stored>, served: { bytes: number }): Promise<{ url: string; server: Server }> {
  const token = randomBytes(12).toString('hex');
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const answer = (status: number, body: unknown): void => void response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.pathname === '/token') return answer(200, { access_token: token, expires_in: 3600, token_type: 'Bearer' });
      const envelope = (id: string, entry: Stored) => ({ id, threadId: 't1', labelIds: ['INBOX'], internalDate: String(entry.at), sizeEstimate: entry.raw.length });
      if (url.pathname === '/gmail/v1/users/me/threads/t1') {
        return answer(200, { id: 't1', messages: [...stored].map(([id, entry]) => envelope(id, entry)) });
      }
      const id = /^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(url.pathname)?.[1] ?? '';
      const entry = stored.get(id);
      if (entry === undefined) return answer(404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } });
      if (url.searchParams.get('format') !== 'raw') return answer(200, envelope(id, entry));
      served.bytes += entry.raw.length;
      return answer(200, { ...envelope(id, entry), raw: entry.raw.toString('base64url') });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function providerAt(url: string): GmailMailProvider {
  return new GmailMailProvider({
    oauth: { clientId: 'client', clientSecret: randomBytes(8).toString('hex'), refreshToken: randomBytes(8).toString('hex'), tokenUrl: `${url}/token` },
    onRefreshTokenRotated: async () => {},
    rootUrl: `${url}/`,
    canSend: false,
    logger: createSilentLogger(),
  });
}

describe('Gmail getThread download budget', () => {
  const stored = new Map<string, Stored>();
  const served = { bytes: 0 };
  let fake: { url: string; server: Server };
  let provider: GmailMailProvider;
  before(async () => {
    // Fifty replies of 1 MiB each (each well under the per-message bound), listed oldest first.
    for (let index = 1; index <= 50; index += 1) stored.set(`m${String(index).padStart(2, '0')}`, { raw: mail(index, ENTRY_BYTES), at: START + index * 60_000 });
    stored.set('parts', { raw: tooManyParts, at: START });
    fake = await fakeGmail(stored, served);
    provider = providerAt(fake.url);
  });
  after(async () => {
    await new Promise((resolve) => fake.server.close(resolve));
  });

  it('downloads no more than one message may be, the newest messages read, every message in its place', async () => {
    served.bytes = 0;
    const thread = await provider.getThread('t1');
    assert.ok(served.bytes <= THREAD_MAX_BYTES, `${served.bytes} bytes downloaded`);
    assert.equal(thread.length, 50, 'the newest fifty, read or not');
    assert.deepEqual(thread.map((entry) => entry.id), [...stored.keys()].filter((id) => id !== 'parts'), 'oldest first');
    const readable = thread.filter((entry) => entry.textBody !== UNREADABLE_THREAD_ENTRY_TEXT).map((entry) => entry.id);
    assert.ok(readable.length >= 5, readable.join(','));
    assert.deepEqual(readable, thread.slice(-readable.length).map((entry) => entry.id), 'the readable ones are the newest');
    const unread = thread[0];
    assert.equal(unread?.from, null);
    assert.equal(unread?.receivedAt.getTime(), START + 60_000);
  });

  it('a message mailparser refuses, read alone, is invalid input, not retryable, with the parser’s reason', async () => {
    await assert.rejects(provider.getMessage('parts'), (error: unknown) => {
      assert.ok(error instanceof FleetError, String(error));
      assert.equal(error.code, 'invalid_input');
      assert.equal(error.retryable, false);
      assert.match(error.message, /could not be parsed \(.*child nodes.*\); it is left for a person/);
      return true;
    });
  });
});
