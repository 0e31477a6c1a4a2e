import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GmailMailProvider } from '../../agent-image/src/adapters/gmail/gmail-mail-provider.ts';
import { ProviderAuthError } from '../../agent-image/src/ports/mail-provider.ts';
import { gmailScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GmailEmulator } from '../emulators/gmail-emulator.ts';
import { accessTokenFor, googleOAuth, refreshTokenGrant } from '../helpers/oauth-tokens.ts';
import { mailProviderContract, type MailHarness } from './mail-provider.contract.ts';
import { sendExactlyApprovedContract } from './send-exactly-approved.contract.ts';
import { simpleParser, type AddressObject } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import type Mail from 'nodemailer/lib/mailer';

const FULL = { 'mail.read': true, 'mail.draft': true, 'mail.send': true, 'mail.label': true, 'mail.move': true };

async function gmailHarness(): Promise<MailHarness> {
  const emulator = new GmailEmulator();
  await emulator.start();
  const rotated: string[] = [];
  const make = (canSend: boolean) =>
    new GmailMailProvider({
      oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor({ ...FULL, 'mail.send': canSend }))),
      onRefreshTokenRotated: async (token) => {
        if (canSend) rotated.push(token);
      },
      rootUrl: emulator.rootUrl,
      canSend,
      logger: createSilentLogger(),
    });
  const provider = make(true);
  return {
    mailbox: emulator.mailbox,
    provider,
    providerWithoutSend: make(false),
    seedInbound: async (seed) =>
      emulator.seedInbound({ from: seed.from, to: [emulator.mailbox], subject: seed.subject, text: seed.text, headers: seed.headers ?? {} }),
    expireHistory: () => emulator.expireHistory(),
    revokeConsent: () => emulator.revokeConsent(),
    invalidateAccessTokens: () => emulator.invalidateAccessTokens(),
    throttle: (count, seconds) => emulator.throttle(count, seconds),
    sent: () =>
      emulator.sent.map((record) => ({
        to: addressesOf(record.parsed.to),
        bcc: addressesOf(record.parsed.bcc),
        subject: record.parsed.subject ?? '',
        body: record.parsed.text ?? '',
        html: record.parsed.html === false ? null : (record.parsed.html ?? null),
        attachments: record.parsed.attachments.map((attachment) => attachment.filename ?? ''),
        threadId: record.threadId,
        inReplyTo: record.headers.get('in-reply-to') ?? null,
        idempotencyKey: record.headers.get('x-agent-fleet-idempotency-key') ?? null,
        autoSubmitted: record.headers.get('auto-submitted') ?? null,
        autoResponseSuppress: record.headers.get('x-auto-response-suppress') ?? null,
      })),
    draftCount: () => emulator.draftCount(),
    editDraftInMailbox: {
      addBcc: (draftId, address) => editGmailDraft(emulator, draftId, (options) => ({ ...options, bcc: [...[options.bcc ?? []].flat(), address] })),
      attach: (draftId, file) =>
        editGmailDraft(emulator, draftId, (options) => ({ ...options, attachments: [...(options.attachments ?? []), { filename: file.name, content: file.content }] })),
      setHtml: (draftId, html) => editGmailDraft(emulator, draftId, (options) => ({ ...options, html })),
    },
    rotatedRefreshTokens: () => [...rotated],
    cursorNotBefore: (later, earlier) => BigInt(later) >= BigInt(earlier),
    labelsOf: (id) => emulator.labelNamesOf(id),
    inInbox: (id) => emulator.labelNamesOf(id).includes('INBOX'),
    isRead: (id) => !emulator.labelNamesOf(id).includes('UNREAD'),
    stop: () => emulator.stop(),
  };
}

function addressesOf(value: AddressObject | AddressObject[] | undefined): string[] {
  return value === undefined ? [] : [value].flat().flatMap((object) => object.value.map((entry) => entry.address ?? ''));
}

/**
 * What Gmail's web client does to a draft someone edits: it reads the draft and stores a whole new MIME
 * message in its place (drafts.update), here with one change applied and everything else kept.
 */
async function editGmailDraft(emulator: GmailEmulator, draftId: string, edit: (options: Mail.Options) => Mail.Options): Promise<void> {
  const { accessToken } = await accessTokenFor(emulator, gmailScopesFor(FULL));
  const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  const url = `${emulator.rootUrl}gmail/v1/users/me/drafts/${encodeURIComponent(draftId)}`;
  const current = (await (await fetch(`${url}?format=raw`, { headers: auth })).json()) as { message: { raw: string; threadId: string } };
  const mail = await simpleParser(Buffer.from(current.message.raw, 'base64url'));
  const key = mail.headers.get('x-agent-fleet-idempotency-key');
  const options = edit({
    from: mail.from?.text,
    to: addressesOf(mail.to),
    cc: addressesOf(mail.cc),
    bcc: addressesOf(mail.bcc),
    subject: mail.subject,
    text: mail.text,
    ...(mail.html === false ? {} : { html: mail.html }),
    ...(mail.messageId === undefined ? {} : { messageId: mail.messageId }),
    ...(mail.inReplyTo === undefined ? {} : { inReplyTo: mail.inReplyTo }),
    ...(mail.references === undefined ? {} : { references: mail.references }),
    headers: typeof key === 'string' ? { 'X-Agent-Fleet-Idempotency-Key': key } : {},
    attachments: mail.attachments.map((attachment) => ({ filename: attachment.filename ?? 'attachment', content: attachment.content, contentType: attachment.contentType })),
  });
  const node = new MailComposer(options).compile();
  // A draft keeps its Bcc header (Gmail strips it only from what it delivers).
  node.keepBcc = true;
  const raw = (await node.build()).toString('base64url');
  const response = await fetch(url, { method: 'PUT', headers: auth, body: JSON.stringify({ id: draftId, message: { raw, threadId: current.message.threadId } }) });
  assert.equal(response.status, 200, await response.text());
}

mailProviderContract('GmailMailProvider', gmailHarness);
sendExactlyApprovedContract('GmailMailProvider', gmailHarness, { carriesAutoSubmitted: true });

describe('GmailMailProvider specifics', () => {
  it('requests no send scope when sending is disabled', () => {
    const scopes = gmailScopesFor({ 'mail.read': true, 'mail.draft': true });
    assert.deepEqual(scopes, [
      'https://www.googleapis.com/auth/gmail.compose',
      'https://www.googleapis.com/auth/gmail.readonly',
    ]);
    assert.ok(gmailScopesFor({ ...FULL }).includes('https://www.googleapis.com/auth/gmail.send'));
    assert.deepEqual(gmailScopesFor({}), []);
  });

  it('a 403 keeps its reason through the bounded answer: a missing scope is an insufficient_scope refusal, not a plain forbidden', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const draftOnly = new GmailMailProvider({
        oauth: googleOAuth(emulator, emulator.issueRefreshToken(['https://www.googleapis.com/auth/gmail.compose'])),
        onRefreshTokenRotated: async () => undefined,
        rootUrl: emulator.rootUrl,
        canSend: false,
        logger: createSilentLogger(),
      });
      const { id } = await emulator.seedInbound({ from: 'dana@customer.example', to: [emulator.mailbox], subject: 'Prices', text: 'What are your prices?', headers: {} });
      await assert.rejects(draftOnly.archive(id), (error: unknown) => error instanceof ProviderAuthError && error.kind === 'insufficient_scope');
    } finally {
      await emulator.stop();
    }
  });

  it('a reply is real MIME: base64url raw with In-Reply-To, References and a matching subject', async () => {
    const h = await gmailHarness();
    try {
      const { id } = await h.seedInbound({ from: 'dana@customer.example', subject: 'Prices', text: 'What are your prices?' });
      const original = await h.provider.getMessage(id);
      const draft = await h.provider.createDraft({
        to: ['dana@customer.example'],
        subject: 'Prices\r\nBcc: attacker@evil.example',
        body: 'Here they are.',
        inReplyTo: id,
        idempotencyKey: 'mime-1',
      });
      await h.provider.sendDraft(draft.id);
      const [sent] = h.sent();
      assert.equal(sent?.inReplyTo, original.messageId);
      assert.equal(sent?.subject, 'Re: Prices Bcc: attacker@evil.example');
      assert.deepEqual(sent?.to, ['dana@customer.example']);
    } finally {
      await h.stop();
    }
  });

  it('a failing rotation hook fails the call and is retried before the next request', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const stored: string[] = [];
      let failNext = true;
      const provider = new GmailMailProvider({
        oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(FULL))),
        onRefreshTokenRotated: async (token) => {
          if (failNext) {
            failNext = false;
            throw new Error('vault unavailable');
          }
          stored.push(token);
        },
        rootUrl: emulator.rootUrl,
        canSend: true,
        logger: createSilentLogger(),
      });
      await assert.rejects(provider.listChangesSince(null), (e: unknown) => e instanceof Error && 'retryable' in e && e.retryable === true);
      const next = await provider.listChangesSince(null);
      assert.match(next.nextCursor, /^\d+$/);
      // The token that failed to store is stored first, then the one its refresh rotated to.
      assert.equal(stored.length, 2);
      const restarted = new GmailMailProvider({
        oauth: googleOAuth(emulator, stored.at(-1) ?? ''),
        onRefreshTokenRotated: async () => {},
        rootUrl: emulator.rootUrl,
        canSend: true,
        logger: createSilentLogger(),
      });
      assert.match((await restarted.listChangesSince(null)).nextCursor, /^\d+$/);
    } finally {
      await emulator.stop();
    }
  });
});

describe('a long Gmail thread', () => {
  it('getThread reads only its newest 50 messages, oldest first, and downloads none over 5 MB', async () => {
    const emulator = new GmailEmulator({ mailbox: 'sam@acme.example' });
    await emulator.start();
    try {
      const provider = new GmailMailProvider({
        oauth: googleOAuth(emulator, emulator.issueRefreshToken(gmailScopesFor(FULL))),
        onRefreshTokenRotated: async () => undefined,
        rootUrl: emulator.rootUrl,
        canSend: true,
        logger: createSilentLogger(),
      });
      const mail = (index: number, text: string) =>
        Buffer.from(
          [
            `From: kim@partner.example`,
            `To: sam@acme.example`,
            `Subject: Re: Project`,
            `Message-ID: <g${index}@partner.example>`,
            ...(index === 0 ? [] : ['In-Reply-To: <g0@partner.example>', 'References: <g0@partner.example>']),
            '',
            text,
            '',
          ].join('\r\n'),
        );
      const first = await emulator.importRaw(mail(0, 'message 0'));
      for (let index = 1; index < 60; index += 1) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        const text = index === 57 ? `message 57 ${'x'.repeat(6 * 1024 * 1024)}` : `message ${index}`;
        await emulator.importRaw(mail(index, text), { threadId: first.threadId, internalDateSource: 'receivedTime' });
      }
      const thread = await provider.getThread(first.threadId);
      assert.equal(thread.length, 50);
      assert.equal(thread[0]?.textBody.trim(), 'message 10');
      assert.equal(thread.at(-1)?.textBody.trim(), 'message 59');
      const large = thread.find((message) => message.textBody.includes('could not be read'));
      assert.ok(large !== undefined, 'the 6 MB message is an unreadable entry, not downloaded');
      assert.equal(large.from, null);
      // The processed message itself: one over 10 MB is refused before it is downloaded, clearly.
      const big = await emulator.importRaw(mail(99, `message 99 ${'y'.repeat(11 * 1024 * 1024)}`));
      await assert.rejects(provider.getMessage(big.id), (error: Error & { code?: string }) => error.code === 'invalid_input' && /MB, more than the 10 MB the agent reads/.test(error.message));
      assert.equal((await provider.getMessage(thread.at(-1)?.id ?? '')).textBody.trim(), 'message 59');
    } finally {
      await emulator.stop();
    }
  });
});

describe('Gmail emulator strictness', () => {
  it('rejects a missing bearer token, malformed base64url raw and an unknown draft like Gmail', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      const base = `${emulator.rootUrl}gmail/v1/users/me`;
      const anonymous = await fetch(`${base}/profile`);
      assert.equal(anonymous.status, 401);
      const body = (await anonymous.json()) as { error: { code: number; status: string; errors: { reason: string }[] } };
      assert.equal(body.error.status, 'UNAUTHENTICATED');
      assert.equal(body.error.errors[0]?.reason, 'authError');

      const { accessToken, refreshToken: rotated } = await accessTokenFor(emulator, gmailScopesFor(FULL));
      const auth = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
      const badRaw = await fetch(`${base}/drafts`, { method: 'POST', headers: auth, body: JSON.stringify({ message: { raw: 'not+base64/url' } }) });
      assert.equal(badRaw.status, 400);
      const unknown = await fetch(`${base}/drafts/r-nope`, { headers: auth });
      assert.equal(unknown.status, 404);
      const oldHistory = await fetch(`${base}/history?startHistoryId=1`, { headers: auth });
      assert.equal(oldHistory.status, 200);
      emulator.expireHistory();
      const expired = await fetch(`${base}/history?startHistoryId=1`, { headers: auth });
      assert.equal(expired.status, 404);

      assert.ok(rotated.length > 0);
      const reuse = await refreshTokenGrant(emulator, 'already-used');
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    } finally {
      await emulator.stop();
    }
  });

  it('takes back only the page tokens it issued, each for its own listing, as Gmail does', async () => {
    const emulator = new GmailEmulator();
    await emulator.start();
    try {
      for (let i = 0; i < 3; i++) await emulator.seedInbound({ from: `s${i}@sender.example`, to: [emulator.mailbox], subject: `m${i}`, text: 'x' });
      const base = `${emulator.rootUrl}gmail/v1/users/me`;
      const { accessToken } = await accessTokenFor(emulator, gmailScopesFor(FULL));
      const auth = { authorization: `Bearer ${accessToken}` };
      const get = async (path: string) => {
        const response = await fetch(`${base}${path}`, { headers: auth });
        return { status: response.status, body: (await response.json()) as { nextPageToken?: string; messages?: unknown[]; history?: unknown[]; error?: { status: string } } };
      };
      const first = await get('/messages?maxResults=2');
      assert.equal(first.body.messages?.length, 2);
      const token = first.body.nextPageToken ?? '';
      assert.equal((await get(`/messages?maxResults=2&pageToken=${token}`)).body.messages?.length, 1);
      const start = emulator.currentHistoryId - 3;
      const history = await get(`/history?startHistoryId=${start}&maxResults=1`);
      assert.equal(history.body.history?.length, 1);
      // A token never issued, a forged offset, or one from the other listing: 400, never a silent empty page.
      for (const path of ['/messages?pageToken=garbage', '/messages?pageToken=1', `/messages?pageToken=${history.body.nextPageToken ?? ''}`]) {
        const refused = await get(path);
        assert.deepEqual([refused.status, refused.body.error?.status], [400, 'INVALID_ARGUMENT'], path);
      }
      for (const bad of ['garbage', '1', token]) {
        const refused = await get(`/history?startHistoryId=${start}&pageToken=${bad}`);
        assert.deepEqual([refused.status, refused.body.error?.status], [400, 'INVALID_ARGUMENT'], bad);
      }
    } finally {
      await emulator.stop();
    }
  });
});
