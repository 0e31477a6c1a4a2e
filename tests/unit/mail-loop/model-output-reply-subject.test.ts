// The reply's subject across a long exchange with a correspondent whose mail app writes its own reply
// prefix: the thread keeps one subject instead of growing a prefix per message.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replySubject } from '../../../agent-image/src/domain/reply-subject.ts';

/** A correspondent's mail app: its own prefix, unless the subject already starts with it or with "Re:". */
function correspondentReply(subject: string, prefix: string): string {
  const own = new RegExp(`^(re|${prefix})\\s*[:：]`, 'i');
  return own.test(subject) ? subject : `${prefix}: ${subject}`;
}

describe('the subject of a reply', () => {
  test('a localised reply prefix is kept, not stacked under "Re: "', () => {
    for (const subject of ['AW: Angebot', 'Aw: Angebot', 'SV: Møde', 'VS: Tapaaminen', 'Antw: Offerte', 'R: Riunione', 'RIF: Ordine', 'Odp: Spotkanie', 'YNT: Toplantı', '回复：会议', '答复: 会议', 'RE：会議', 'Re[2]: Meeting', 'Re(3): Meeting', 'RE: Meeting']) {
      assert.equal(replySubject(subject), subject, subject);
    }
  });

  test('a forward is answered as one; an ordinary subject gets "Re: " once', () => {
    assert.equal(replySubject('Fwd: Contract'), 'Re: Fwd: Contract');
    assert.equal(replySubject('WG: Vertrag'), 'Re: WG: Vertrag');
    assert.equal(replySubject('Meeting next week'), 'Re: Meeting next week');
    assert.equal(replySubject('Reading list'), 'Re: Reading list');
    assert.equal(replySubject('Svalbard trip'), 'Re: Svalbard trip');
  });

  test('twenty exchanges with an app that writes "AW:" leave the subject as it was', () => {
    let subject = 'AW: Angebot';
    for (let round = 0; round < 20; round++) subject = correspondentReply(replySubject(subject), 'AW');
    assert.equal(subject, 'AW: Angebot');
  });

  test('applying it twice changes nothing (the mail adapters apply it to the draft again)', () => {
    for (const subject of ['', ' ', '\r\n', 'Re:', 'Re: ', 'x', ' AW:  y ', 'a\r\nb', '回复：z']) {
      const once = replySubject(subject);
      assert.equal(replySubject(once), once, JSON.stringify(subject));
      assert.doesNotMatch(once, /[\r\n]/);
    }
  });
});
