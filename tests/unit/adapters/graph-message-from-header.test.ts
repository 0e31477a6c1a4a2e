// Graph gives one `from` whatever the From header holds. Read with the raw headers, the sender is the one
// address of the one From header, as the Gmail adapter reads it: several authors, a group, a second From
// or a `from` the header does not write is no sender.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toMailMessage, type GraphMessage } from '../../../agent-image/src/adapters/graph/graph-message.ts';

const message = (from: string, headers: [string, string][]): GraphMessage => ({
  id: 'o-1',
  from: { emailAddress: { address: from, name: 'CEO' } },
  internetMessageHeaders: headers.map(([name, value]) => ({ name, value })),
});
const received: [string, string] = ['Received', 'from mail.evil.example (192.0.2.1) by outlook.example'];

describe('graph message: the sender as the From header writes it', () => {
  for (const from of ['ceo@client.example, eve@evil.example', 'eve@evil.example, ceo@client.example', 'Board: ceo@client.example;', 'Team: ceo@client.example, eve@evil.example;']) {
    it(`From: ${from} is no sender, whichever address Graph picks`, () => {
      assert.equal(toMailMessage(message('ceo@client.example', [received, ['From', from]])).from, null);
    });
  }

  it('two From headers are no sender', () => {
    assert.equal(toMailMessage(message('ceo@client.example', [received, ['From', 'ceo@client.example'], ['From', 'eve@evil.example']])).from, null);
  });

  it('a `from` the From header does not write (filled from Sender, say) is no sender', () => {
    assert.equal(toMailMessage(message('ceo@client.example', [received, ['Sender', 'ceo@client.example'], ['From', 'Eve <eve@evil.example>']])).from, null);
  });

  it('the one written address is the sender, its display name, comment and case aside', () => {
    for (const from of ['CEO <CEO@Client.Example>', 'ceo@client.example (CEO)', '"ceo@client.example" <ceo@client.example>']) {
      assert.deepEqual(toMailMessage(message('ceo@client.example', [received, ['From', from]])).from, { address: 'ceo@client.example', name: 'CEO' }, from);
    }
  });

  it('an address in UTF-8 is the sender whether the header is given as text or as its bytes', () => {
    const address = 'björn@partner.example';
    for (const value of [`Björn <${address}>`, Buffer.from(`Björn <${address}>`, 'utf8').toString('latin1')]) {
      assert.equal(toMailMessage(message(address, [received, ['From', value]])).from?.address, address, value);
    }
  });

  it('an IDN domain is the same written in punycode or in Unicode; another domain is not', () => {
    const header: [string, string] = ['From', 'Kim Lee <kim@xn--prtner-3nf.example>'];
    assert.equal(toMailMessage(message('kim@p\u0430rtner.example', [received, header])).from?.address, 'kim@p\u0430rtner.example');
    assert.equal(toMailMessage(message('kim@partner.example', [received, header])).from, null);
  });

  it('without a From among the raw headers (sent from the mailbox, a draft) Graph’s `from` stands', () => {
    assert.equal(toMailMessage(message('ceo@client.example', [])).from?.address, 'ceo@client.example');
    assert.equal(toMailMessage(message('ceo@client.example', [['X-Custom', '1']])).from?.address, 'ceo@client.example');
  });
});
