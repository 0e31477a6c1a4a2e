// Anyone who can reply into a thread can send a message the parser refuses (more than 1000 MIME parts, a
// header over 1 MiB). Such a message must not make the whole thread unreadable, or every later message of
// the thread goes to review: getThread shows it as an unreadable entry, getMessage of it still fails.
// Gmail and Graph are served here by small loopback fakes, because the emulators refuse to store what
// their own parser refuses.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GraphMailProvider } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { UNREADABLE_THREAD_ENTRY_TEXT } from '../../../agent-image/src/adapters/unreadable-thread-entry.ts';
import { threadForModel } from '../../../agent-image/src/services/mail-loop/email-for-model.ts';

const MAILBOX = 'sam@acme.example';

type Handler = (url: URL, request: IncomingMessage) => { status: number; body: unknown };

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const { status, body } = handler(new URL(request.url ?? '/', 'http://127.0.0.1'), request);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function mail(lines: string[], body: string): Buffer {
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8');
}

const first = mail([`From: Dana <dana@customer.example>`, `To: ${MAILBOX}`, 'Subject: Plan', 'Message-ID: <1@customer.example>', 'Date: Mon, 02 Jun 2025 09:00:00 +0000'], 'Can we meet Tuesday?\r\n');
const parts = Array.from({ length: 1100 }, (_, index) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${index}\r\n`).join('');
const tooManyParts = mail(
  ['From: eve@evil.example', `To: ${MAILBOX}`, 'Subject: Re: Plan', 'In-Reply-To: <1@customer.example>', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b'],
  `${parts}--b--\r\n`,
);
const hugeHeader = mail(['From: eve@evil.example', `To: ${MAILBOX}`, 'Subject: Re: Plan', 'In-Reply-To: <1@customer.example>', `X-Filler: ${'a'.repeat(1024 * 1024 + 16)}`], 'hi\r\n');
const answered = mail(
  [`From: Dana <dana@customer.example>`, `To: ${MAILBOX}`, 'Subject: Re: Plan', 'Message-ID: <4@customer.example>', 'In-Reply-To: <1@customer.example>', 'Date: Mon, 02 Jun 2025 12:00:00 +0000'],
  'Or Wednesday?\r\n',
);

describe('Gmail getThread with a message mailparser refuses', () => {
  const stored = new Map<string, { raw: Buffer; at: number }>([
    ['m1', { raw: first, at: Date.parse('2025-06-02T09:00:00Z') }],
    ['m2', { raw: tooManyParts, at: Date.parse('2025-06-02T10:00:00Z') }],
    ['m3', { raw: hugeHeader, at: Date.parse('2025-06-02T11:00:00Z') }],
    ['m4', { raw: answered, at: Date.parse('2025-06-02T12:00:00Z') }],
  ]);
  let fake: { url: string; server: Server };
  let provider: GmailMailProvider;
  before(async () => {
    fake = await serve((url) => {
      if (url.pathname === '/token') return { status: 200, body: { access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' } };
      const thread = /^\/gmail\/v1\/users\/me\/threads\/([^/]+)$/.exec(url.pathname);
      if (thread?.[1] === 't1') return { status: 200, body: { id: 't1', messages: [...stored.keys()].map((id) => ({ id, threadId: 't1' })) } };
      const message = stored.get(/^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(url.pathname)?.[1] ?? '');
      if (message === undefined) return { status: 404, body: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } } };
      const id = [...stored.entries()].find(([, entry]) => entry === message)?.[0];
      return { status: 200, body: { id, threadId: 't1', labelIds: ['INBOX'], internalDate: String(message.at), raw: message.raw.toString('base64url') } };
    });
    provider = new GmailMailProvider({
      oauth: { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh', tokenUrl: `${fake.url}/token` },
      onRefreshTokenRotated: async () => {},
      rootUrl: `${fake.url}/`,
      canSend: true,
      logger: createSilentLogger(),
    });
  });
  after(async () => {
    await new Promise((resolve) => fake.server.close(resolve));
  });

  it('leaves the unparseable messages out as unreadable entries in their place, and reads the rest', async () => {
    const thread = await provider.getThread('t1');
    assert.deepEqual(
      thread.map((entry) => [entry.id, entry.from?.address ?? null, entry.textBody.trim()]),
      [
        ['m1', 'dana@customer.example', 'Can we meet Tuesday?'],
        ['m2', null, UNREADABLE_THREAD_ENTRY_TEXT],
        ['m3', null, UNREADABLE_THREAD_ENTRY_TEXT],
        ['m4', 'dana@customer.example', 'Or Wednesday?'],
      ],
    );
    assert.equal(thread[1]?.receivedAt.toISOString(), '2025-06-02T10:00:00.000Z');
    assert.equal(thread[1]?.threadId, 't1');
  });

  it('the drafter still sees the correspondent’s earlier message, and nothing of the unreadable ones', async () => {
    const thread = await provider.getThread('t1');
    const message = await provider.getMessage('m4');
    assert.deepEqual(
      threadForModel(thread, message, MAILBOX).map((entry) => entry.body.trim()),
      ['Can we meet Tuesday?'],
    );
  });

  it('the unparseable message itself still fails when read on its own', async () => {
    await assert.rejects(provider.getMessage('m2'), /child nodes/);
    await assert.rejects(provider.getMessage('m3'), /header size/);
  });

  it('a provider failure while reading the thread still fails the thread', async () => {
    const missing = await serve((url) =>
      url.pathname === '/token'
        ? { status: 200, body: { access_token: 'ya29.test', expires_in: 3600, token_type: 'Bearer' } }
        : url.pathname.endsWith('/threads/t2')
          ? { status: 200, body: { id: 't2', messages: [{ id: 'gone', threadId: 't2' }] } }
          : { status: 500, body: { error: { code: 500, message: 'Backend Error', status: 'INTERNAL' } } },
    );
    try {
      const failing = new GmailMailProvider({
        oauth: { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh', tokenUrl: `${missing.url}/token` },
        onRefreshTokenRotated: async () => {},
        rootUrl: `${missing.url}/`,
        canSend: true,
        logger: createSilentLogger(),
      });
      await assert.rejects(failing.getThread('t2'), (error: unknown) => error instanceof FleetError);
    } finally {
      await new Promise((resolve) => missing.server.close(resolve));
    }
  });
});

describe('Graph getThread with a message of an unexpected shape', () => {
  const good = (id: string, at: string, text: string) => ({
    id,
    conversationId: 'c1',
    subject: 'Plan',
    body: { contentType: 'text', content: text },
    from: { emailAddress: { address: 'dana@customer.example', name: 'Dana' } },
    toRecipients: [{ emailAddress: { address: MAILBOX } }],
    receivedDateTime: at,
  });
  let list: unknown[] = [];
  let fake: { url: string; server: Server };
  let provider: GraphMailProvider;
  before(async () => {
    fake = await serve(() => ({ status: 200, body: { value: list } }));
    provider = new GraphMailProvider({ tokens: { getAccessToken: async () => 'token' }, baseUrl: fake.url, canSend: false, logger: createSilentLogger() });
  });
  after(async () => {
    await new Promise((resolve) => fake.server.close(resolve));
  });

  it('shows the odd message as an unreadable entry in its place and reads the rest', async () => {
    list = [
      good('g1', '2025-06-02T09:00:00Z', 'Can we meet Tuesday?'),
      { ...good('g2', '2025-06-02T10:00:00Z', 'x'), from: { emailAddress: { address: 42 } } },
      good('g3', '2025-06-02T11:00:00Z', 'Or Wednesday?'),
    ];
    const thread = await provider.getThread('c1');
    assert.deepEqual(
      thread.map((entry) => [entry.id, entry.from?.address ?? null, entry.textBody]),
      [
        ['g1', 'dana@customer.example', 'Can we meet Tuesday?'],
        ['g2', null, UNREADABLE_THREAD_ENTRY_TEXT],
        ['g3', 'dana@customer.example', 'Or Wednesday?'],
      ],
    );
    assert.equal(thread[1]?.receivedAt.toISOString(), '2025-06-02T10:00:00.000Z');
  });

  it('an entry without an id is an integrity error', async () => {
    list = [good('g1', '2025-06-02T09:00:00Z', 'hi'), { subject: 'no id' }];
    await assert.rejects(provider.getThread('c1'), (error: unknown) => error instanceof FleetError && error.code === 'integrity');
  });
});
