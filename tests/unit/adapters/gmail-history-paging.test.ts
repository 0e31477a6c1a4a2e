// Gmail sync follows history.list's nextPageToken. A mailbox with a huge history, or a server that keeps
// answering a nextPageToken, must not keep one round paging (and its ids growing) without end: a round
// reads a bounded number of pages and moves the cursor only to the last history record it read, so the
// next round resumes there and no message is lost. A history id that is not a number is an integrity
// error, and a full listing that pages without finding new ids ends too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { gmailProviderAt } from './gmail-provider-at.ts';
import { HISTORY_PAGES_PER_ROUND } from '../../../agent-image/src/adapters/gmail/gmail-sync.ts';

/** History records (one message each) the scripted mailbox holds after the cursor, a page of 10 each. */
const RECORDS = 10 * (HISTORY_PAGES_PER_ROUND * 2 + 3);
const START = 5000;

type Answer = (url: URL) => { status: number; body: unknown };

/** A loopback Gmail answering as scripted, with its own token endpoint; counts the API requests. */
async function scriptedGmail(answer: Answer): Promise<{ provider: GmailMailProvider; requests: URL[]; close(): Promise<void> }> {
  const token = randomBytes(12).toString('hex');
  const requests: URL[] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const reply = url.pathname === '/token' ? { status: 200, body: { access_token: token, expires_in: 3600, token_type: 'Bearer' } } : (requests.push(url), answer(url));
      response.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.body));
    });
  });
  const provider = await gmailProviderAt(server);
  return { provider, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** history.list over RECORDS records after START, 10 a page, the page token being the offset. */
function history(url: URL): { status: number; body: unknown } {
  const start = Number(url.searchParams.get('startHistoryId'));
  const all = Array.from({ length: RECORDS }, (_, index) => START + 1 + index).filter((id) => id > start);
  const offset = Number(url.searchParams.get('pageToken') ?? '0');
  const page = all.slice(offset, offset + 10);
  const body: Record<string, unknown> = {
    historyId: String(START + RECORDS + 7),
    history: page.map((id) => ({ id: String(id), messagesAdded: [{ message: { id: `m${id}`, threadId: `t${id}`, labelIds: ['INBOX'] } }] })),
  };
  if (offset + 10 < all.length) body['nextPageToken'] = String(offset + 10);
  return { status: 200, body };
}

describe('Gmail history paging is bounded', () => {
  it('a round reads a bounded number of pages and the next round resumes after its last record', async () => {
    const gmail = await scriptedGmail(history);
    try {
      const ids: string[] = [];
      const pagesPerRound: number[] = [];
      let cursor = String(START);
      for (let round = 0; round < 10; round++) {
        const before = gmail.requests.length;
        const changes = await gmail.provider.listChangesSince(cursor);
        pagesPerRound.push(gmail.requests.length - before);
        ids.push(...changes.messageIds);
        if (changes.nextCursor === cursor) break;
        cursor = changes.nextCursor;
        if (changes.messageIds.length === 0) break;
      }
      assert.equal(pagesPerRound[0], HISTORY_PAGES_PER_ROUND);
      assert.equal(pagesPerRound[1], HISTORY_PAGES_PER_ROUND);
      assert.deepEqual(ids, Array.from({ length: RECORDS }, (_, index) => `m${START + 1 + index}`), 'every message once, in order');
      assert.equal(cursor, String(START + RECORDS + 7), 'a round that reached the end moves to the mailbox history id');
    } finally {
      await gmail.close();
    }
  });

  it('a page token answered twice in a round ends it with an integrity error', async () => {
    const gmail = await scriptedGmail(() => ({ status: 200, body: { historyId: String(START + 1), history: [], nextPageToken: 'same' } }));
    try {
      await assert.rejects(gmail.provider.listChangesSince(String(START)), (error: unknown) => error instanceof FleetError && error.code === 'integrity');
      assert.equal(gmail.requests.length, 2);
    } finally {
      await gmail.close();
    }
  });

  it('a history id that is not a number is an integrity error', async () => {
    const gmail = await scriptedGmail(() => ({ status: 200, body: { historyId: '12abc' } }));
    try {
      await assert.rejects(gmail.provider.listChangesSince(String(START)), (error: unknown) => error instanceof FleetError && error.code === 'integrity');
    } finally {
      await gmail.close();
    }
  });

  it('a full listing whose pages add no new id ends', async () => {
    let page = 0;
    const gmail = await scriptedGmail((url) => {
      if (url.pathname.endsWith('/history')) return { status: 404, body: { error: { code: 404, message: 'Requested entity was not found.', status: 'NOT_FOUND' } } };
      if (url.pathname.endsWith('/profile')) return { status: 200, body: { emailAddress: 'sam@acme.example', historyId: String(START + 9) } };
      // The same message on every page, a new page token each time, ending only after 2 000 pages.
      page += 1;
      return { status: 200, body: { messages: [{ id: 'm1', threadId: 't1' }], ...(page < 2000 ? { nextPageToken: String(page) } : {}) } };
    });
    try {
      const changes = await gmail.provider.listChangesSince(String(START));
      assert.deepEqual(changes.messageIds, ['m1']);
      assert.equal(changes.fullResync, true);
      assert.ok(page <= HISTORY_PAGES_PER_ROUND, `read ${page} pages`);
    } finally {
      await gmail.close();
    }
  });
});
