// hasPreviousCommunicationWith decides who is a known contact, and so who may get mail without approval.
// The providers' searches match words and display names, not addresses (Gmail's `to:a@b.com` also finds
// mail to x.a@b.com.evil.example): the adapters must confirm the exact address themselves. Here a loopback
// proxy in front of the strict emulators makes the search as loose as it can be (it drops the address
// from the query), and only a message really sent to the address may count.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GmailMailProvider } from '../../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GraphMailProvider } from '../../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import type { MailProvider } from '../../../agent-image/src/ports/mail-provider.ts';
import { GmailEmulator } from '../../emulators/gmail-emulator.ts';
import { GraphEmulator } from '../../emulators/graph-emulator.ts';
import { googleOAuth, graphTokenSource } from '../../helpers/oauth-tokens.ts';

const PERMISSIONS = { 'mail.read': true, 'mail.draft': true, 'mail.send': true };

/** A loopback proxy to `target` that loosens mail searches: `rewrite` edits each request's query. */
async function looseSearchProxy(target: string, rewrite: (query: URLSearchParams) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', target);
      rewrite(url.searchParams);
      const headers = Object.fromEntries(Object.entries(request.headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[0] !== 'host'));
      const body = chunks.length === 0 ? undefined : Buffer.concat(chunks);
      fetch(url, { method: request.method ?? 'GET', headers, ...(body === undefined ? {} : { body }) })
        .then(async (answer) => {
          response.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !['content-length', 'content-encoding', 'transfer-encoding'].includes(name))));
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function sendTo(provider: MailProvider, to: string, key: string): Promise<void> {
  const draft = await provider.createDraft({ to: [to], subject: 'Hello', body: 'Hi', idempotencyKey: key });
  await provider.sendDraft(draft.id);
}

const sides = {
  gmail: async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    const proxy = await looseSearchProxy(emulator.rootUrl, (query) => {
      const q = query.get('q');
      if (q !== null) query.set('q', q.replace(/\bto:\S+/g, '').trim());
    });
    const provider = new GmailMailProvider({
      oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(PERMISSIONS))),
      onRefreshTokenRotated: async () => undefined,
      rootUrl: `${proxy.url}/`,
      canSend: true,
      logger: createSilentLogger(),
    });
    return { provider, stop: async () => (proxy.server.close(), await emulator.stop()) };
  },
  graph: async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    const proxy = await looseSearchProxy(emulator.baseUrl, (query) => query.delete('$search'));
    const provider = new GraphMailProvider({ tokens: graphTokenSource(emulator, graphScopesFor(PERMISSIONS)), baseUrl: proxy.url, canSend: true, logger: createSilentLogger() });
    return { provider, stop: async () => (proxy.server.close(), await emulator.stop()) };
  },
};

for (const [name, open] of Object.entries(sides)) {
  describe(`previous correspondents are exact addresses (${name})`, () => {
    it('a search hit for mail to another address does not make a known contact', async () => {
      const { provider, stop } = await open();
      try {
        await sendTo(provider, 'bob@partner.example', 'known-a');
        assert.equal(await provider.hasPreviousCommunicationWith('bob@partner.example.evil.example'), false);
        assert.equal(await provider.hasPreviousCommunicationWith('x.bob@partner.example'), false);
        assert.equal(await provider.hasPreviousCommunicationWith('BOB@partner.example'), true);
      } finally {
        await stop();
      }
    });
  });
}
