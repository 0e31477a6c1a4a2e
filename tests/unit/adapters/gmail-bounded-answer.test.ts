// The Gmail adapter decides whether to download a message from its `sizeEstimate`, which is the server's
// word. A message whose real raw form is far larger (or a server that lies, or an answer gzip makes
// small on the wire and large in memory) must still not be read whole into the agent's 128 MiB: the
// download itself stops at the bound. A message refused so is left for a person, and a thread entry
// refused so is an unreadable entry in its place while the rest of the thread is read.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { gmailProviderAt } from './gmail-provider-at.ts';
import { UNREADABLE_THREAD_ENTRY_TEXT } from '../../../agent-image/src/adapters/unreadable-thread-entry.ts';

const MIB = 1024 * 1024;
const START = Date.parse('2025-06-02T09:00:00Z');

interface Stored {
  raw: Buffer;
  /** What the server claims the message's size is. */
  sizeEstimate: number;
  at: number;
}

function mail(subject: string, bodyBytes: number): Buffer {
  const headers = ['From: eve@evil.example', 'To: sam@acme.example', `Subject: ${subject}`, `Message-ID: <${randomBytes(6).toString('hex')}@evil.example>`, 'Content-Type: text/plain'];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${subject}\r\n${'x'.repeat(bodyBytes)}\r\n`, 'utf8');
}

/** Writes a JSON answer in 64 KiB chunks with no Content-Length (chunked), gzipped when asked. */
function send(response: ServerResponse, status: number, body: unknown, gzip: boolean): void {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  if (gzip) {
    response.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(gzipSync(json));
    return;
  }
  response.writeHead(status, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  for (let offset = 0; offset < json.length; offset += 64 * 1024) response.write(json.subarray(offset, offset + 64 * 1024));
  response.end();
}

/** What an endless answer sends at most, if the reader never stops reading. */
const ENDLESS_BYTES = 96 * MIB;

/**
 * A raw answer that does not end: base64 text, sent as fast as the reader takes it, until the reader
 * stops (or ENDLESS_BYTES). Counts what was sent.
 */
function sendEndless(response: ServerResponse, envelope: Record<string, unknown>, sent: { bytes: number }): void {
  const head = JSON.stringify(envelope).slice(0, -1) + ',"raw":"';
  const chunk = Buffer.alloc(256 * 1024, 'A');
  response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  response.write(head);
  const pump = (): void => {
    while (!response.destroyed && sent.bytes < ENDLESS_BYTES) {
      sent.bytes += chunk.length;
      if (!response.write(chunk)) return void response.once('drain', pump);
    }
    if (!response.destroyed) response.end('"}');
  };
  pump();
}

/** A loopback Gmail serving `stored` (thread t1), each raw answer gzipped when `gzip`; 'endless' never ends. */
async function lyingGmail(stored: Map<string, Stored>, gzip: boolean, sent: { bytes: number } = { bytes: 0 }): Promise<{ provider: GmailMailProvider; close(): Promise<void> }> {
  const token = randomBytes(12).toString('hex');
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/token') return send(response, 200, { access_token: token, expires_in: 3600, token_type: 'Bearer' }, false);
      const envelope = (id: string, entry: Stored) => ({ id, threadId: 't1', labelIds: ['INBOX'], internalDate: String(entry.at), sizeEstimate: entry.sizeEstimate });
      if (url.pathname === '/gmail/v1/users/me/threads/t1') return send(response, 200, { id: 't1', messages: [...stored].map(([id, entry]) => envelope(id, entry)) }, false);
      const id = /^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(url.pathname)?.[1] ?? '';
      const entry = stored.get(id);
      if (entry === undefined) return send(response, 404, { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } }, false);
      if (url.searchParams.get('format') !== 'raw') return send(response, 200, envelope(id, entry), false);
      if (id === 'endless') return sendEndless(response, envelope(id, entry), sent);
      return send(response, 200, { ...envelope(id, entry), raw: entry.raw.toString('base64url') }, gzip);
    });
  });
  const provider = await gmailProviderAt(server);
  return { provider, close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()) };
}

function leftForAPerson(error: unknown): boolean {
  assert.ok(error instanceof FleetError, String(error));
  assert.equal(error.code, 'invalid_input');
  assert.equal(error.retryable, false);
  assert.match(error.message, /left for a person/);
  return true;
}

describe('Gmail reads are bounded by what is downloaded, not by sizeEstimate', () => {
  it('a message far larger than its sizeEstimate is refused, not read whole', async () => {
    const gmail = await lyingGmail(new Map([['big', { raw: mail('big', 12 * MIB), sizeEstimate: 2048, at: START }]]), false);
    try {
      await assert.rejects(gmail.provider.getMessage('big'), leftForAPerson);
    } finally {
      await gmail.close();
    }
  });

  it('an answer that does not end is read no further than the bound', async () => {
    const sent = { bytes: 0 };
    const gmail = await lyingGmail(new Map([['endless', { raw: Buffer.alloc(0), sizeEstimate: 2048, at: START }]]), false, sent);
    try {
      await assert.rejects(gmail.provider.getMessage('endless'), leftForAPerson);
      // The bound is some 14 MB of base64; the rest is what sockets buffer before the reader stops.
      assert.ok(sent.bytes < ENDLESS_BYTES / 2, `${sent.bytes} bytes sent`);
    } finally {
      await gmail.close();
    }
  });

  it('an answer small on the wire (gzip) and large once decompressed is refused', async () => {
    const gmail = await lyingGmail(new Map([['bomb', { raw: mail('bomb', 24 * MIB), sizeEstimate: 2048, at: START }]]), true);
    try {
      await assert.rejects(gmail.provider.getMessage('bomb'), leftForAPerson);
    } finally {
      await gmail.close();
    }
  });

  it('a message at its sizeEstimate, under the bound, is still read', async () => {
    const raw = mail('fine', 3 * MIB);
    const gmail = await lyingGmail(new Map([['fine', { raw, sizeEstimate: raw.length, at: START }]]), true);
    try {
      const message = await gmail.provider.getMessage('fine');
      assert.equal(message.subject, 'fine');
      assert.equal(message.from?.address, 'eve@evil.example');
    } finally {
      await gmail.close();
    }
  });

  it('a thread entry larger than its sizeEstimate is an unreadable entry, the others read', async () => {
    const stored = new Map<string, Stored>([
      ['old', { raw: mail('old', 1024), sizeEstimate: 2048, at: START }],
      ['liar', { raw: mail('liar', 7 * MIB), sizeEstimate: 2048, at: START + 60_000 }],
      ['new', { raw: mail('new', 1024), sizeEstimate: 2048, at: START + 120_000 }],
    ]);
    const gmail = await lyingGmail(stored, false);
    try {
      const thread = await gmail.provider.getThread('t1');
      assert.deepEqual(thread.map((entry) => entry.id), ['old', 'liar', 'new']);
      assert.equal(thread[1]?.textBody, UNREADABLE_THREAD_ENTRY_TEXT);
      assert.match(thread[0]?.textBody ?? '', /^old/);
      assert.match(thread[2]?.textBody ?? '', /^new/);
    } finally {
      await gmail.close();
    }
  });
});
