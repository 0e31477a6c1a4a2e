import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { gmailScopesFor, graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { GmailMailProvider } from '../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { GraphMailProvider } from '../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { GRAPH_MAX_RECEIVE_BYTES } from '../emulators/graph-mime-delivery.ts';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { accessTokenFor, googleOAuth, graphTokenSource } from '../helpers/oauth-tokens.ts';
import { rawMailContract, rawMessage, type RawMailHarness } from './mail-provider-raw.contract.ts';

const FULL = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.move': true };

async function gmailHarness(): Promise<RawMailHarness & { emulator: GmailEmulator }> {
  const emulator = new GmailEmulator();
  await emulator.start();
  const provider = new GmailMailProvider({
    oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(FULL))),
    onRefreshTokenRotated: async () => {},
    rootUrl: emulator.rootUrl,
    canSend: true,
    logger: createSilentLogger(),
  });
  return { emulator, mailbox: emulator.mailbox, provider, deliverRaw: (raw) => emulator.importRaw(raw), stop: () => emulator.stop() };
}

async function graphHarness(): Promise<RawMailHarness & { emulator: GraphEmulator }> {
  const emulator = new GraphEmulator();
  await emulator.start();
  const provider = new GraphMailProvider({
    tokens: graphTokenSource(emulator, graphScopesFor(FULL)),
    baseUrl: emulator.baseUrl,
    canSend: true,
    logger: createSilentLogger(),
  });
  return { emulator, mailbox: emulator.mailbox, provider, deliverRaw: (raw) => emulator.deliverRaw(raw), stop: () => emulator.stop() };
}

rawMailContract('GmailMailProvider', gmailHarness);
rawMailContract('GraphMailProvider', graphHarness);

const gmailToken = async (emulator: GmailEmulator, scopes: string[]) => (await accessTokenFor(emulator, scopes)).accessToken;

describe('Gmail emulator: users.messages.import and insert', () => {
  it('stores the raw bytes unchanged and refuses what Gmail refuses', async () => {
    const h = await gmailHarness();
    try {
      const base = `${h.emulator.rootUrl}gmail/v1/users/me/messages`;
      const auth = { authorization: `Bearer ${await gmailToken(h.emulator, gmailScopesFor(FULL))}`, 'content-type': 'application/json' };
      const raw = rawMessage({ messageId: '<bytes@customer.example>', subject: 'Bytes', to: h.mailbox, body: Buffer.from([0x48, 0xe9, 0x0d, 0x0a]) });
      const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
        fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

      const imported = await post('/import', { raw: raw.toString('base64url'), labelIds: ['INBOX', 'UNREAD'] });
      assert.equal(imported.status, 200);
      const { id } = (await imported.json()) as { id: string };
      const fetched = (await (await fetch(`${base}/${id}?format=raw`, { headers: auth })).json()) as { raw: string; internalDate: string };
      assert.ok(Buffer.from(fetched.raw, 'base64url').equals(raw), 'served back byte for byte');
      assert.equal(fetched.internalDate, String(Date.parse('2025-06-02T09:30:00Z')), 'import dates by the Date header');

      const inserted = await post('?internalDateSource=receivedTime', { raw: raw.toString('base64url') });
      assert.equal(inserted.status, 200);
      assert.equal((await post('/import', { raw: 'not+base64/url' })).status, 400);
      assert.equal((await post('/import', { raw: Buffer.from('no header here').toString('base64url') })).status, 400);
      assert.equal((await post('/import', {})).status, 400);
      assert.equal((await post('/import', { raw: raw.toString('base64url'), labelIds: ['NO_SUCH_LABEL'] })).status, 400);
      assert.equal((await post('/import', { raw: raw.toString('base64url'), threadId: 'no-such-thread' })).status, 404);
      assert.equal((await post('/import?internalDateSource=later', { raw: raw.toString('base64url') })).status, 400);
      const readOnly = { ...auth, authorization: `Bearer ${await gmailToken(h.emulator, gmailScopesFor({ 'mail.read': true }))}` };
      assert.equal((await post('/import', { raw: raw.toString('base64url') }, readOnly)).status, 403);
    } finally {
      await h.stop();
    }
  });
});

describe('Graph emulator: MIME delivery', () => {
  it('refuses what Exchange Online refuses: over the receive size, or no header fields', async () => {
    const h = await graphHarness();
    try {
      await assert.rejects(h.emulator.deliverRaw(Buffer.alloc(GRAPH_MAX_RECEIVE_BYTES + 1, 0x61)), /size exceeds/);
      const route = `${h.emulator.baseUrl}/_emulator/inbox/mime`;
      const bad = await fetch(route, { method: 'POST', body: JSON.stringify({ raw: Buffer.from('junk').toString('base64url') }) });
      assert.equal(bad.status, 400);
      const raw = rawMessage({ messageId: '<route@customer.example>', subject: 'Via route', to: h.mailbox });
      const good = await fetch(route, { method: 'POST', body: JSON.stringify({ raw: raw.toString('base64url') }) });
      assert.equal(good.status, 201);
      const { id } = (await good.json()) as { id: string };
      assert.equal((await h.provider.getMessage(id)).subject, 'Via route');
    } finally {
      await h.stop();
    }
  });

  it('a reply drafted to a message with Reply-To still goes only where the adapter addressed it', async () => {
    const h = await graphHarness();
    try {
      const raw = rawMessage({ messageId: '<rt@customer.example>', subject: 'Pay here', to: h.mailbox, extraHeaders: ['Reply-To: thief@elsewhere.example'] });
      const { id } = await h.deliverRaw(raw);
      const draft = await h.provider.createDraft({ to: ['emilie@customer.example'], subject: 'Pay here', body: 'Noted.', inReplyTo: id, idempotencyKey: 'rt-1' });
      assert.deepEqual(draft.to, ['emilie@customer.example']);
    } finally {
      await h.stop();
    }
  });
});
