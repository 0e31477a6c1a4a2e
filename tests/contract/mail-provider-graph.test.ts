import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphMailProvider } from '../../agent-image/src/adapters/graph/graph-mail-provider.ts';
import { graphScopesFor } from '@agent-fleet/kernel/provider-scopes';
import { createSilentLogger } from '@agent-fleet/kernel/logger';
import { GraphEmulator } from '../emulators/graph-emulator.ts';
import { accessTokenFor, graphTokenSource } from '../helpers/oauth-tokens.ts';
import { mailProviderContract, type MailHarness } from './mail-provider.contract.ts';

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
        subject: record.subject,
        body: record.text,
        threadId: record.conversationId,
        inReplyTo: record.inReplyTo,
        idempotencyKey:
          record.internetMessageHeaders.find((h) => h.name.toLowerCase() === 'x-agent-fleet-idempotency-key')?.value ?? null,
      })),
    rotatedRefreshTokens: () => [...rotated],
    cursorNotBefore: (later, earlier) => GraphEmulator.deltaSequenceOf(later) >= GraphEmulator.deltaSequenceOf(earlier),
    labelsOf: (id) => emulator.message(id)?.categories ?? [],
    inInbox: (id) => emulator.message(id)?.folder === 'inbox',
    isRead: (id) => emulator.message(id)?.isRead === true,
    stop: () => emulator.stop(),
  };
}

mailProviderContract('GraphMailProvider', graphHarness);

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

describe('Graph emulator strictness', () => {
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
});
