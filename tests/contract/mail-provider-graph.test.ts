import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphMailProvider } from '../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { GRAPH_MAX_REQUEST_BYTES, GraphEmulator } from '../emulators/graph-emulator.ts';
import { accessTokenFor, graphTokenSource } from '../helpers/oauth-tokens.ts';
import { mailProviderContract, type MailHarness } from './mail-provider.contract.ts';
import { sendExactlyApprovedContract } from './send-exactly-approved.contract.ts';

const FULL = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.move': true };

async function graphHarness(): Promise<MailHarness> {
  const emulator = new GraphEmulator();
  await emulator.start();
  const rotated: string[] = [];
  const make = (canSend: boolean) => {
    const scopes = graphScopesFor({ ...FULL, 'mail.send': canSend });
    return new GraphMailProvider({
      tokens: graphTokenSource(emulator, scopes, async (token) => {
        if (canSend) rotated.push(token);
      }),
      baseUrl: emulator.baseUrl,
      canSend,
      pageSize: 2,
      logger: createSilentLogger(),
    });
  };
  return {
    mailbox: emulator.mailbox,
    provider: make(true),
    providerWithoutSend: make(false),
    seedInbound: async (seed) => {
      const match = /^(.*?)\s*<([^>]+)>$/.exec(seed.from);
      return emulator.seedInbound({
        from: match?.[2] ?? seed.from,
        ...(match?.[1] ? { fromName: match[1] } : {}),
        to: [emulator.mailbox],
        subject: seed.subject,
        text: seed.text,
        headers: seed.headers ?? {},
      });
    },
    expireHistory: () => emulator.expireDeltaTokens(),
    revokeConsent: () => emulator.revokeConsent(),
    invalidateAccessTokens: () => emulator.invalidateAccessTokens(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    sent: () =>
      emulator.sent.map((record) => ({
        to: record.to,
        bcc: record.bcc,
        subject: record.subject,
        body: record.text,
        html: record.html,
        attachments: record.attachments.map((attachment) => attachment.name),
        threadId: record.conversationId,
        inReplyTo: record.inReplyTo,
        idempotencyKey: headerOf(record.internetMessageHeaders, 'x-agent-fleet-idempotency-key'),
        autoSubmitted: headerOf(record.internetMessageHeaders, 'auto-submitted'),
        autoResponseSuppress: headerOf(record.internetMessageHeaders, 'x-auto-response-suppress'),
      })),
    draftCount: () => emulator.draftCount(),
    editDraftInMailbox: {
      addBcc: (draftId, address) => editGraphDraft(emulator, 'PATCH', draftId, '', { bccRecipients: [{ emailAddress: { address } }] }),
      attach: (draftId, file) =>
        editGraphDraft(emulator, 'POST', draftId, '/attachments', {
          '@odata.type': '#microsoft.graph.fileAttachment',
          name: file.name,
          contentBytes: file.content.toString('base64'),
        }),
      setHtml: (draftId, html) => editGraphDraft(emulator, 'PATCH', draftId, '', { body: { contentType: 'HTML', content: html } }),
    },
    rotatedRefreshTokens: () => [...rotated],
    cursorNotBefore: (later, earlier) => GraphEmulator.deltaSequenceOf(later) >= GraphEmulator.deltaSequenceOf(earlier),
    labelsOf: (id) => emulator.message(id)?.categories ?? [],
    inInbox: (id) => emulator.message(id)?.folder === 'inbox',
    isRead: (id) => emulator.message(id)?.isRead === true,
    stop: () => emulator.stop(),
  };
}

const headerOf = (headers: { name: string; value: string }[], name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value ?? null;

/** A change to a draft as Outlook (or any Graph client holding Mail.ReadWrite) makes it. */
async function editGraphDraft(emulator: GraphEmulator, method: 'PATCH' | 'POST', draftId: string, segment: string, body: unknown): Promise<void> {
  const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
  const response = await fetch(`${emulator.baseUrl}/v1.0/me/messages/${encodeURIComponent(draftId)}${segment}`, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(response.ok, await response.text());
}

mailProviderContract('GraphMailProvider', graphHarness);
// Exchange drops Auto-Submitted (and Graph refuses to set it): an automatic send carries X-Auto-Response-Suppress only.
sendExactlyApprovedContract('GraphMailProvider', graphHarness, { carriesAutoSubmitted: false });

describe('GraphMailProvider specifics', () => {
  it('requests Mail.Send only when sending is granted', () => {
    assert.deepEqual(graphScopesFor({ 'mail.read': true, 'mail.draft': true }), ['Mail.ReadWrite', 'offline_access']);
    assert.deepEqual(graphScopesFor({ 'mail.read': true }), ['Mail.Read', 'offline_access']);
    assert.ok(graphScopesFor(FULL).includes('Mail.Send'));
  });

  it('replies go through createReply, then PATCH, then send, with the key set at creation', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const provider = new GraphMailProvider({
        tokens: graphTokenSource(emulator, graphScopesFor(FULL)),
        baseUrl: emulator.baseUrl,
        canSend: true,
        logger: createSilentLogger(),
      });
      const { id } = emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });
      const draft = await provider.createDraft({ to: ['dana@customer.example'], subject: 'Hi', body: 'Hello back', inReplyTo: id, idempotencyKey: 'g-1' });
      await provider.sendDraft(draft.id);
      const writes = emulator.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/v1.0/'));
      assert.deepEqual(
        writes.map((r) => `${r.method} ${r.path.replace(/AAMk[0-9a-f]+/g, ':id')}`),
        ['POST /v1.0/me/messages/:id/createReply', 'PATCH /v1.0/me/messages/:id', 'POST /v1.0/me/messages/:id/send'],
      );
      assert.match(writes[0]?.body ?? '', /X-Agent-Fleet-Idempotency-Key/);
      assert.doesNotMatch(writes[1]?.body ?? '', /internetMessageHeaders/);
      assert.ok(emulator.requests.every((r) => r.path.includes('/token') || r.headers.prefer?.toString().includes('IdType="ImmutableId"')));
    } finally {
      await emulator.stop();
    }
  });
});

describe('a long Graph thread', () => {
  it('getThread reads its newest messages, oldest first; the emulator sorts only by what the filter names first', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
      const provider = new GraphMailProvider({
        tokens: graphTokenSource(emulator, graphScopesFor(FULL), async () => undefined),
        baseUrl: emulator.baseUrl,
        canSend: true,
        logger: createSilentLogger(),
      });
      const first = emulator.seedInbound({ from: 'kim@partner.example', to: [emulator.mailbox], subject: 'Project', text: 'message 0' });
      let last = first;
      for (let index = 1; index < 60; index += 1) {
        // A distinct receivedDateTime each (Graph's resolution is a second; the emulator's a millisecond).
        await new Promise((resolve) => setTimeout(resolve, 2));
        const raw = [
          `From: kim@partner.example`,
          `To: ${emulator.mailbox}`,
          `Subject: Re: Project`,
          `Message-ID: <m${index}@partner.example>`,
          `In-Reply-To: ${last.internetMessageId}`,
          `References: ${first.internetMessageId} ${last.internetMessageId}`,
          `Date: Mon, 2 Mar 2026 09:00:00 +0000`,
          '',
          `message ${index}`,
          '',
        ].join('\r\n');
        last = await emulator.deliverRaw(Buffer.from(raw));
        assert.equal(last.conversationId, first.conversationId);
      }
      const thread = await provider.getThread(first.conversationId);
      assert.equal(thread.length, 50);
      assert.deepEqual(thread.map((message) => message.textBody.trim()).slice(-2), ['message 58', 'message 59'], 'the newest are there, last');
      assert.equal(thread[0]?.textBody.trim(), 'message 10');

      const base = `${emulator.baseUrl}/v1.0/me/messages`;
      const auth = { authorization: `Bearer ${accessToken}` };
      const filter = encodeURIComponent(`conversationId eq '${first.conversationId}'`);
      const inefficient = await fetch(`${base}?$filter=${filter}&$orderby=receivedDateTime%20desc`, { headers: auth });
      assert.equal(inefficient.status, 400);
      assert.equal(((await inefficient.json()) as { error: { code: string } }).error.code, 'InefficientFilter');
    } finally {
      await emulator.stop();
    }
  });
});

describe('large Graph messages', () => {
  it('a message over 10 MB is refused before it is read; a thread too large for one answer is read one by one, its large entries unreadable', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const provider = new GraphMailProvider({ tokens: graphTokenSource(emulator, graphScopesFor(FULL)), baseUrl: emulator.baseUrl, canSend: true, logger: createSilentLogger() });
      const first = emulator.seedInbound({ from: 'kim@partner.example', to: [emulator.mailbox], subject: 'Files', text: 'message 0' });
      const reply = async (index: number, text: string) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const raw = [`From: kim@partner.example`, `To: ${emulator.mailbox}`, 'Subject: Re: Files', `Message-ID: <f${index}@partner.example>`, `In-Reply-To: ${first.internetMessageId}`, `References: ${first.internetMessageId}`, '', text, ''].join('\r\n');
        return emulator.deliverRaw(Buffer.from(raw));
      };
      await reply(1, `message 1 ${'a'.repeat(4 * 1024 * 1024)}`);
      const large = await reply(2, `message 2 ${'b'.repeat(6 * 1024 * 1024)}`);
      await reply(3, 'message 3');
      const thread = await provider.getThread(first.conversationId);
      assert.deepEqual(thread.map((message) => message.textBody.slice(0, 9)), ['message 0', 'message 1', '[A messag', 'message 3']);
      assert.equal(thread[2]?.id, large.id);
      assert.equal(thread[2]?.from, null, 'the 6 MB message is an unreadable entry, not downloaded');

      const big = await reply(4, `message 4 ${'c'.repeat(11 * 1024 * 1024)}`);
      await assert.rejects(provider.getMessage(big.id), (error: Error & { code?: string }) => error.code === 'invalid_input' && /more than the 10 MB the agent reads/.test(error.message));
      assert.equal((await provider.getMessage(large.id)).textBody.slice(0, 9), 'message 2', 'under 10 MB, the message itself is read');
    } finally {
      await emulator.stop();
    }
  });
});

describe('Graph emulator strictness', () => {
  it('adds file attachments like Graph: typed, base64, under 3 MB; hasAttachments leaves inline ones out', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const base = `${emulator.baseUrl}/v1.0/me/messages`;
      const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      const { id } = (await (await post('', { subject: 's', bccRecipients: [{ emailAddress: { address: 'b@x.example' } }] })).json()) as { id: string };
      const file = { '@odata.type': '#microsoft.graph.fileAttachment', name: 'a.txt', contentBytes: Buffer.from('hello').toString('base64') };
      assert.equal((await post(`/${id}/attachments`, { name: 'a.txt', contentBytes: file.contentBytes })).status, 400);
      assert.equal((await post(`/${id}/attachments`, { ...file, contentBytes: 'not base64!' })).status, 400);
      assert.equal((await post(`/${id}/attachments`, { ...file, color: 'red' })).status, 400);
      assert.equal((await post(`/${id}/attachments`, { ...file, contentBytes: Buffer.alloc(3 * 1024 * 1024).toString('base64') })).status, 413);
      assert.equal((await post('/AAMknope/attachments', file)).status, 404);
      const inline = await post(`/${id}/attachments`, { ...file, name: 'logo.png', isInline: true, contentId: 'logo' });
      assert.equal(inline.status, 201);
      const read = async () => (await (await fetch(`${base}/${id}?$select=hasAttachments,bccRecipients`, { headers: auth })).json()) as Record<string, unknown>;
      assert.equal((await read())['hasAttachments'], false);
      assert.equal((await post(`/${id}/attachments`, file)).status, 201);
      assert.equal((await read())['hasAttachments'], true);
      assert.deepEqual((await read())['bccRecipients'], [{ emailAddress: { address: 'b@x.example' } }]);
      const listed = (await (await fetch(`${base}/${id}/attachments?$select=id`, { headers: auth })).json()) as { value: Record<string, unknown>[] };
      assert.equal(listed.value.length, 2);
      assert.deepEqual(Object.keys(listed.value[0] ?? {}).sort(), ['@odata.type', 'id']);
      const unsupported = await fetch(`${base}/${id}?$expand=attachments`, { headers: auth });
      assert.equal(unsupported.status, 400);
    } finally {
      await emulator.stop();
    }
  });

  it('refuses what Graph refuses in queries and bodies: unknown $select properties, query options delta does not take, a bad $top, a body that is not a JSON object', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const base = `${emulator.baseUrl}/v1.0/me`;
      const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const { id } = emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Hi', text: 'Hello' });
      const status = async (path: string, init: RequestInit = {}) => (await fetch(`${base}${path}`, { headers: auth, ...init })).status;
      assert.equal(await status(`/messages/${id}?$select=id,subject`), 200);
      assert.equal(await status(`/messages/${id}?$select=id,subjectt`), 400, 'a misspelt property');
      assert.equal(await status(`/messages/${id}?$select=id,`), 400, 'an empty property');
      assert.equal(await status(`/mailFolders/inbox/messages?$select=id,constructor`), 400, 'not a property, whatever the emulator’s objects have');
      assert.equal(await status(`/mailfolders('Inbox')/messages/delta?$select=id`), 200, 'the folder as a key, in any case');
      assert.equal(await status(`/mailFolders/inbox/messages/delta?$search=%22hello%22`), 400);
      assert.equal(await status(`/mailFolders/inbox/messages/delta?$orderby=subject`), 400);
      assert.equal(await status(`/mailFolders/inbox/messages/delta?$filter=${encodeURIComponent("subject eq 'Hi'")}`), 400);
      assert.equal(await status(`/mailFolders/inbox/messages?$top=ten`), 400);
      assert.equal(await status(`/mailFolders/inbox/messages?$top=1001`), 400);
      assert.equal(await status(`/messages/${id}/createReply`, { method: 'POST', body: '{"message": ' }), 400, 'truncated JSON');
      assert.equal(await status(`/messages/${id}/createReply`, { method: 'POST', body: '[]' }), 400, 'not an object');
      assert.equal(await status(`/messages/${id}/createReply`, { method: 'POST' }), 201, 'no body at all is a plain reply');
      assert.equal(await status(`/messages/${id}`, { method: 'PATCH', body: 'isRead=true' }), 400);
      assert.equal(emulator.draftCount(), 1, 'only the valid createReply made a draft');
    } finally {
      await emulator.stop();
    }
  });

  it('refuses a missing token, non x- internet headers, header edits after creation and sends a 429 with Retry-After', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const base = `${emulator.baseUrl}/v1.0/me`;
      const anonymous = await fetch(`${base}/messages/x`);
      assert.equal(anonymous.status, 401);
      assert.equal(((await anonymous.json()) as { error: { code: string } }).error.code, 'InvalidAuthenticationToken');
      const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const badHeader = await fetch(`${base}/messages`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ subject: 's', internetMessageHeaders: [{ name: 'Bcc', value: 'x@y.example' }] }),
      });
      assert.equal(badHeader.status, 400);
      assert.equal(((await badHeader.json()) as { error: { code: string } }).error.code, 'InvalidInternetMessageHeader');
      const created = (await (await fetch(`${base}/messages`, { method: 'POST', headers: auth, body: JSON.stringify({ subject: 's' }) })).json()) as { id: string };
      const patchHeaders = await fetch(`${base}/messages/${created.id}`, {
        method: 'PATCH',
        headers: auth,
        body: JSON.stringify({ internetMessageHeaders: [{ name: 'x-a', value: 'b' }] }),
      });
      assert.equal(patchHeaders.status, 400);
      const noRecipients = await fetch(`${base}/messages/${created.id}/send`, { method: 'POST', headers: auth });
      assert.equal(noRecipients.status, 400);
      emulator.throttle(1, 3);
      const throttled = await fetch(`${base}/messages/${created.id}`, { headers: auth });
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers.get('retry-after'), '3');
    } finally {
      await emulator.stop();
    }
  });

  it('refuses a request body over 4 MB with 413, as Graph does; a draft too large for it fails without being retried and leaves nothing behind', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const { accessToken } = await accessTokenFor(emulator, graphScopesFor(FULL));
      const huge = 'x'.repeat(GRAPH_MAX_REQUEST_BYTES);
      const direct = await fetch(`${emulator.baseUrl}/v1.0/me/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 's', body: { contentType: 'text', content: huge } }),
      });
      assert.equal(direct.status, 413);
      assert.equal(((await direct.json()) as { error: { code: string } }).error.code, 'ErrorRequestEntityTooLarge');
      assert.equal(emulator.draftCount(), 0);

      const provider = new GraphMailProvider({ tokens: graphTokenSource(emulator, graphScopesFor(FULL)), baseUrl: emulator.baseUrl, canSend: true, logger: createSilentLogger() });
      await assert.rejects(
        provider.createDraft({ to: ['kim@partner.example'], subject: 'Files', body: huge, idempotencyKey: crypto.randomUUID() }),
        (error: unknown) => error instanceof FleetError && !error.retryable,
      );
      assert.equal(emulator.draftCount(), 0);
    } finally {
      await emulator.stop();
    }
  });

  it('a reply draft whose content Graph refuses leaves no empty threaded draft behind', async () => {
    const emulator = new GraphEmulator();
    await emulator.start();
    try {
      const provider = new GraphMailProvider({ tokens: graphTokenSource(emulator, graphScopesFor(FULL)), baseUrl: emulator.baseUrl, canSend: true, logger: createSilentLogger() });
      const original = emulator.seedInbound({ from: 'kim@partner.example', to: [emulator.mailbox], subject: 'Files', text: 'hello' });
      // createReply succeeds, then the PATCH with the content is refused (413 here: over Graph's 4 MB).
      const input = { to: ['kim@partner.example'], subject: 'Files', body: 'x'.repeat(GRAPH_MAX_REQUEST_BYTES), idempotencyKey: crypto.randomUUID(), inReplyTo: original.id };
      await assert.rejects(provider.createDraft(input), (error: unknown) => error instanceof FleetError && !error.retryable);
      assert.equal(emulator.draftCount(), 0, 'the draft createReply made is deleted when its content cannot be set');
    } finally {
      await emulator.stop();
    }
  });
});
