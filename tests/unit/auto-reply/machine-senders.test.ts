// Machine mail the older marker checks missed: structured header values with comments and parameters
// (RFC 3834 §5, RFC 5322 CFWS), bounces and list robots known by their address (RFC 5230 §4.6), and
// qmail's spelling of the null reverse path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AutoReplyHeaders, MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { isSystemAddress, noReplyReason } from '../../../agent-image/src/services/mail-loop/auto-reply-rules.ts';

const OWN = new Set(['me@acme.example']);

function message(overrides: Partial<MailMessage> = {}, headers: AutoReplyHeaders = {}): MailMessage {
  return {
    id: 'm-1', threadId: 't-1', from: { address: 'kim@partner.example', name: 'Kim' }, to: [{ address: 'me@acme.example', name: null }], cc: [], replyTo: [],
    subject: 'Re: Invoice 42', date: null, messageId: '<m-1@partner.example>', inReplyTo: null, references: [], listId: null, autoSubmitted: null,
    precedence: null, autoReplyHeaders: headers, idempotencyKey: null, authenticationResults: [], textBody: 'Thanks.',
    receivedAt: new Date('2026-03-02T09:00:00Z'), labels: [], ...overrides,
  };
}

describe('structured marker values', () => {
  test('Auto-Submitted "no" with a comment or parameters is a person\'s mail', () => {
    assert.equal(noReplyReason(message({ autoSubmitted: 'no (written by Kim)' }), OWN), null);
    assert.equal(noReplyReason(message({ autoSubmitted: 'No; reason=manual' }), OWN), null);
    assert.equal(noReplyReason(message({ autoSubmitted: '(comment) no' }), OWN), null);
  });

  test('Auto-Submitted with parameters or a comment is still machine mail', () => {
    assert.equal(noReplyReason(message({ autoSubmitted: 'auto-replied; owner-email="kim@partner.example"' }), OWN), 'auto_submitted');
    assert.equal(noReplyReason(message({ autoSubmitted: 'auto-generated (vacation)' }), OWN), 'auto_submitted');
    assert.equal(noReplyReason(message({ autoSubmitted: '(no) auto-notified' }), OWN), 'auto_submitted', 'a comment saying no does not count');
  });

  test('Precedence with a comment is still read', () => {
    assert.equal(noReplyReason(message({ precedence: 'bulk (newsletter)' }), OWN), 'bulk_precedence');
    assert.equal(noReplyReason(message({ precedence: 'auto_reply (vacation)' }), OWN), 'auto_reply_header');
  });
});

describe('system senders', () => {
  test('bounces and list robots are never answered, by From or by Return-Path', () => {
    for (const address of ['MAILER-DAEMON@mx.partner.example', 'postmaster@partner.example', 'LISTSERV@lists.example', 'majordomo@lists.example', 'owner-sales@lists.example', 'sales-request@lists.example', 'MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@partner.example']) {
      assert.equal(noReplyReason(message({ from: { address, name: null } }), OWN), 'system_sender', address);
    }
    assert.equal(noReplyReason(message({}, { 'return-path': '<MAILER-DAEMON@mx.partner.example>' }), OWN), 'system_sender');
  });

  test("qmail's null reverse path is one", () => {
    assert.equal(noReplyReason(message({}, { 'return-path': '<#@[]>' }), OWN), 'null_return_path');
  });

  test('people whose address only looks alike are answered', () => {
    for (const address of ['postmaster.general@partner.example', 'daemon@partner.example', 'product-owner@partner.example', 'requests@partner.example', 'microsoftexchange@partner.example']) {
      assert.equal(isSystemAddress(address), false, address);
      assert.equal(noReplyReason(message({ from: { address, name: null } }), OWN), null, address);
    }
    assert.equal(noReplyReason(message({}, { 'return-path': '<bounces+123@partner.example>' }), OWN), null);
  });
});

describe('list mail without a List-Id', () => {
  test('any List-* header marks list mail (RFC 3834 §2): a newsletter with only List-Unsubscribe is never answered', () => {
    assert.equal(noReplyReason(message({}, { 'list-unsubscribe': '<https://news.example/u?x=1>' }), OWN), 'mailing_list');
    assert.equal(noReplyReason(message({}, { 'list-post': '<mailto:group@lists.example>' }), OWN), 'mailing_list');
    assert.equal(noReplyReason(message({}, { 'list-unsubscribe': '   ' }), OWN), null, 'an empty header marks nothing');
  });
});
