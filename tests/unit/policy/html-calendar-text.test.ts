import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { linkIn } from '../../../agent-image/src/domain/policy/link-host.ts';
import { unknownAddressIn } from '../../../agent-image/src/domain/policy/sent-text-content.ts';
import { MAX_EVENT_DESCRIPTION } from '../../../agent-image/src/domain/scheduling/event-limits.ts';
import { decideInvite } from './fixtures.ts';
import { assertLinearWork } from './work-meter.ts';

// Google shows an event's description as HTML, in the calendar and in the invitation it mails: what the
// attendees read is the text with its character references decoded and its tags gone.

describe('calendar text read as HTML shows it', () => {
  it('holds an invitation that names an unknown address behind a character reference or a tag', () => {
    for (const description of [
      'Send the bank details to billing&#64;pay-desk.example',
      'Send the bank details to billing&#x40;pay-desk.example',
      'Send the bank details to billing&commat;pay-desk.example',
      'Send the bank details to billing@pay-desk&#46;example',
      'Send the bank details to billing@pay-desk<b></b>.example',
      'Send the bank details to billing<span>@</span>pay-desk.example',
    ]) {
      const decision = decideInvite(description);
      assert.equal(decision.decision, 'needs_approval', description);
      assert.deepEqual(decision.reasons, ['free_text'], description);
      assert.equal(unknownAddressIn(description, () => false), 'billing@pay-desk.example', description);
    }
  });

  it('holds an invitation whose link is spelt with zero-padded references or split by tags', () => {
    for (const description of [
      'Slides: acme-notes-login&#x000002e;com/q3',
      'Slides: acme-notes-login&#00000046;com/q3',
      'Slides: acme-notes-login<b></b>.com/q3',
      'Slides: acme-notes-login.<i>com</i>/q3',
      'Slides: acme-notes-login<!-- x -->.com/q3',
      'Slides: acme-notes-login<span>.</span>com/q3',
    ]) {
      assert.equal(linkIn(description), 'acme-notes-login.com', description);
      assert.deepEqual(decideInvite(description).reasons, ['free_text'], description);
    }
  });

  it('lets ordinary HTML text through: known addresses, line breaks between words, escaped ampersands', () => {
    for (const description of [
      'Questions to bob@partner.com<br>Thanks, Sam',
      '<p>Agenda</p><ul><li>Q3 numbers</li><li>R&amp;D plan</li></ul>',
      'Ask carol&#64;partner.com first<br>or bob@partner.com',
      'Room 4.12<br>Bring slides.',
    ]) {
      assert.deepEqual(decideInvite(description).reasons, ['auto_send'], description);
    }
  });

  it('reads text full of tags and references in work linear in its length', () => {
    for (const unit of ['<b>a@', '<br>.x', '&#0000', '<x>&#64;a.']) {
      const text = (size: number) => unit.repeat(Math.floor(size / unit.length));
      assert.equal(decideInvite(text(MAX_EVENT_DESCRIPTION)).decision, 'allow', unit);
      assertLinearWork(`links ${JSON.stringify(unit)}`, (size) => () => linkIn(text(size)), 200_000);
      assertLinearWork(`addresses ${JSON.stringify(unit)}`, (size) => () => unknownAddressIn(text(size), () => false), 200_000);
    }
  });
});
