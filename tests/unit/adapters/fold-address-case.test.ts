// Addresses read from mail are compared case-insensitively for A-Z only: String#toLowerCase maps the
// Kelvin sign (U+212A) to "k", which made a look-alike sender equal to an ASCII known contact.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { foldAddressCase, foldAsciiCase } from '@agent-fleet/kernel/email-address';
import { withAsciiDomain } from '../../../agent-image/src/domain/policy/ascii-domain.ts';
import { replyRecipient } from '../../../agent-image/src/services/mail-loop/draft-reply.ts';
import { noReplyReason } from '../../../agent-image/src/services/mail-loop/auto-reply-rules.ts';
import { parseRaw, toMailMessage } from '../../../agent-image/src/adapters/gmail/gmail-message.ts';

const KELVIN = '\u212A';

describe('address case folding of mail read', () => {
  test('folds A-Z only and trims', () => {
    assert.equal(foldAddressCase('  Kim.Lee@Partner.Example '), 'kim.lee@partner.example');
    assert.equal(foldAddressCase(`${KELVIN}evin@partner.example`), `${KELVIN}evin@partner.example`);
  });

  test('the shared A-Z fold keeps white space and every other character', () => {
    assert.equal(foldAsciiCase(' Kim.LEE '), ' kim.lee ');
    assert.equal(foldAsciiCase(`${KELVIN}IM\u00C9`), `${KELVIN}im\u00C9`);
  });

  test("the policy gate folds a local part as mail read is folded", () => {
    for (const local of ['Kim.Lee', `${KELVIN}evin`, 'J\u00D6RG', 'Ｋim']) {
      assert.equal(withAsciiDomain(`${local}@Partner.Example`), `${foldAddressCase(local)}@partner.example`, local);
    }
  });

  test('a look-alike sender read from a Gmail message is not the ASCII address it resembles', async () => {
    const raw = Buffer.from(`From: =?utf-8?B?${Buffer.from(`${KELVIN}evin`).toString('base64')}?= <${KELVIN}evin@partner.example>\r\nTo: owner@client.example\r\nSubject: hi\r\n\r\nbody\r\n`);
    const message = toMailMessage(await parseRaw(raw), { id: 'm1', threadId: 't1', internalDate: '0', labelIds: ['INBOX'] });
    assert.notEqual(message.from?.address, 'kevin@partner.example');
    assert.notEqual(replyRecipient(message), 'kevin@partner.example');
    assert.equal(noReplyReason({ ...message, from: { address: `${KELVIN}evin@client.example`, name: null } }, new Set(['kevin@client.example'])), null, 'not taken for the client\'s own address');
  });
});
