// What the agent's sends carry so that other auto-responders do not answer them (RFC 3834): a send no
// human approved is marked, a human's is not, whatever the request said; and each provider's draft
// builder writes the marks it can carry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRawMessage } from '../../../agent-image/src/adapters/gmail/gmail-mime.ts';
import { parseRaw } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';
import { graphDraftHeaders } from '../../../agent-image/src/adapters/graph/graph-draft-headers.ts';
import { autoSubmittedFor, autoSubmittedOf } from '../../../agent-image/src/domain/auto-reply/auto-submitted.ts';
import type { Draft } from '../../../agent-image/src/ports/mail-provider.ts';
import { buildOutboundMessage } from '../../../agent-image/src/services/outbox/outbound-message.ts';
import { sameMarks } from '../../../agent-image/src/services/runtime/mail-send-receipts.ts';

const KEY = 're-0123456789abcdef0123456789abcdef01234567';
const request = { to: ['kim@partner.example'], subject: 'Re: Invoice 42', text: 'Thank you, received.' };

describe('outbound marks follow who let the send go', () => {
  test('a reply the gate sent on its own is auto-replied, with Exchange asked not to answer it', () => {
    const { message } = buildOutboundMessage(request, KEY, 'auto_approved');
    assert.equal(message.headers['Auto-Submitted'], 'auto-replied');
    assert.equal(message.headers['X-Auto-Response-Suppress'], 'OOF, AutoReply');
  });

  test("the agent's own notices are auto-generated", () => {
    assert.equal(buildOutboundMessage(request, KEY, 'not_required').message.headers['Auto-Submitted'], 'auto-generated');
  });

  test('a reply a human approved or edited carries no mark, even when the request wrote one', () => {
    for (const status of ['approved', 'edited'] as const) {
      const { message } = buildOutboundMessage({ ...request, headers: { 'auto-submitted': 'auto-replied', 'X-AUTO-RESPONSE-SUPPRESS': 'All' } }, KEY, status);
      assert.equal(autoSubmittedOf(message.headers), null, status);
      assert.deepEqual(Object.keys(message.headers), ['X-Agent-Fleet-Idempotency-Key'], status);
    }
  });

  test('an automatic send cannot be unmarked or re-marked by the request', () => {
    const { message } = buildOutboundMessage({ ...request, headers: { 'AUTO-SUBMITTED': 'no', 'X-Extra': '1' } }, KEY, 'auto_approved');
    assert.equal(autoSubmittedOf(message.headers), 'auto-replied');
    assert.equal(Object.keys(message.headers).filter((name) => name.toLowerCase() === 'auto-submitted').length, 1);
    assert.equal(message.headers['X-Extra'], '1');
  });

  test('the marks are not content: the content hash is the same marked or not', () => {
    assert.equal(buildOutboundMessage(request, KEY, 'auto_approved').contentHash, buildOutboundMessage(request, KEY, 'approved').contentHash);
  });

  test('only the gate alone and the agent itself mark; pending, denied and the rest do not', () => {
    assert.equal(autoSubmittedFor('auto_approved'), 'auto-replied');
    assert.equal(autoSubmittedFor('not_required'), 'auto-generated');
    for (const status of ['pending', 'approved', 'edited', 'rejected', 'expired', 'denied'] as const) assert.equal(autoSubmittedFor(status), null, status);
  });
});

describe('draft builders', () => {
  const mime = { from: 'me@acme.example', to: ['kim@partner.example'], cc: [], subject: 'Re: Invoice 42', body: 'Thank you, received.', inReplyTo: '<m-1@partner.example>', references: ['<m-1@partner.example>'], idempotencyKey: KEY };

  test('Gmail: an automatic send carries Auto-Submitted and X-Auto-Response-Suppress, its content unchanged', async () => {
    const marked = await parseRaw(Buffer.from(await buildRawMessage({ ...mime, autoSubmitted: 'auto-replied' }), 'base64url'));
    assert.equal(marked.headers.get('auto-submitted'), 'auto-replied');
    assert.equal(marked.headers.get('x-auto-response-suppress'), 'OOF, AutoReply');
    const plain = await parseRaw(Buffer.from(await buildRawMessage(mime), 'base64url'));
    assert.equal(plain.headers.get('auto-submitted'), undefined);
    assert.equal(plain.headers.get('x-auto-response-suppress'), undefined);
    for (const parsed of [marked, plain]) {
      assert.equal(parsed.subject, mime.subject);
      assert.equal(parsed.text?.trimEnd(), mime.body);
      assert.equal(parsed.headers.get('x-agent-fleet-idempotency-key'), KEY);
    }
  });

  test('Graph: only x- headers (Graph refuses others), the key first, the Exchange mark on automatic sends', () => {
    const marked = graphDraftHeaders(KEY, 'auto-replied');
    assert.ok(marked.every((header) => /^x-/i.test(header.name)), JSON.stringify(marked));
    assert.deepEqual(marked, [
      { name: 'X-Agent-Fleet-Idempotency-Key', value: KEY },
      { name: 'X-Auto-Response-Suppress', value: 'OOF, AutoReply' },
    ]);
    assert.deepEqual(graphDraftHeaders(KEY, null), [{ name: 'X-Agent-Fleet-Idempotency-Key', value: KEY }]);
    assert.throws(() => graphDraftHeaders('bad key\r\n', null));
  });
});

describe('a draft read back carries the marks its send needs (MailSendReceipts)', () => {
  const draft = (autoSubmitted: string | null, autoResponseSuppress: string | null): Draft => ({
    id: 'd-1', messageId: 'm-1', threadId: 't-1', to: ['kim@partner.example'], cc: [], bcc: [], subject: 'Re: Invoice 42', body: 'Thank you, received.',
    html: null, attachments: 0, idempotencyKey: KEY, autoSubmitted, autoResponseSuppress,
  });

  test("a human's send needs a draft with neither mark", () => {
    assert.equal(sameMarks(draft(null, null), null), true);
    assert.equal(sameMarks(draft(null, 'OOF, AutoReply'), null), false);
    assert.equal(sameMarks(draft('auto-replied', null), null), false);
    assert.equal(sameMarks(draft('no', null), null), false, 'any Auto-Submitted the agent did not write is not kept');
  });

  test('an automatic send needs the Exchange mark, and Auto-Submitted as marked where the provider carries it (Outlook cannot)', () => {
    assert.equal(sameMarks(draft('auto-replied', 'OOF, AutoReply'), 'auto-replied'), true);
    assert.equal(sameMarks(draft(null, 'OOF, AutoReply'), 'auto-replied'), true, 'Outlook');
    assert.equal(sameMarks(draft('auto-generated', 'OOF, AutoReply'), 'auto-replied'), false);
    assert.equal(sameMarks(draft('auto-replied', null), 'auto-replied'), false);
    assert.equal(sameMarks(draft(null, null), 'auto-generated'), false);
    assert.equal(sameMarks(draft(null, 'All'), 'auto-generated'), false);
  });
});
