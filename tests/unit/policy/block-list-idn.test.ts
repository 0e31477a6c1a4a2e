import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBlockList } from '../../../agent-image/src/domain/policy/block-list.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { contactsFromCorrespondence } from '../../../agent-image/src/domain/policy/known-contacts.ts';
import { parsePolicyState, recordSend, serialisePolicyState } from '../../../agent-image/src/domain/policy/policy-state.ts';
import { config, NOW, state } from './fixtures.ts';

// One domain, many spellings: mail to any of them reaches the ASCII (IDNA) form, so the block list and
// known contacts see that form whatever the spelling. A calendar lists attendees as whoever added them
// wrote them, so the gate meets these spellings in the attendees an event change notifies.

const SPELLINGS = [
  'kim@bücher.example',
  'kim@BÜCHER.example',
  'kim@ｂüｃｈｅｒ。example',
  'kim@xn--bcher-kva.example',
  'KIM@XN--BCHER-KVA.EXAMPLE',
  'ｋｉｍ@bücher.example',
  'kim@eu.bücher.example',
  'kim%bücher.example@relay.example',
];

describe('the block list matches every spelling of an internationalised domain', () => {
  for (const entry of ['xn--bcher-kva.example', 'bücher.example', 'BÜCHER.example', '*.bücher.example']) {
    it(`an entry ${entry} blocks the domain however an address spells it`, () => {
      const list = compileBlockList([entry]);
      for (const address of SPELLINGS) {
        const covered = !entry.startsWith('*.') || address.includes('eu.');
        assert.equal(list.match(address) !== undefined, covered, `${entry} vs ${address}`);
      }
      assert.equal(list.match('kim@bucher.example'), undefined, 'a look-alike in plain ASCII is another domain');
    });
  }

  it('an address entry matches the same mailbox at the domain in any spelling', () => {
    const list = compileBlockList(['ceo@müller.example']);
    assert.notEqual(list.match('ceo@xn--mller-kva.example'), undefined);
    assert.notEqual(list.match('ceo+news@MÜLLER.example'), undefined);
    assert.equal(list.match('cfo@xn--mller-kva.example'), undefined);
  });

  it('the gate holds an event change notifying an attendee at a blocked domain written in another script', () => {
    const blocked = config({ blockList: ['xn--bcher-kva.example'] });
    const update = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', title: 'Moved' };
    for (const attendee of ['ｋｉｍ@ｂüｃｈｅｒ.example', 'Kim@BÜCHER.example']) {
      const decision = evaluatePolicy(update, blocked, state(), NOW, { notified: { attendees: ['bob@partner.com', attendee], shown: [] } });
      assert.equal(decision.decision, 'needs_approval', attendee);
      assert.ok(decision.reasons.includes('blocked_recipient'), attendee);
    }
  });
});

describe('known contacts compare the domain in its ASCII form', () => {
  it('a known contact listed with the domain in Unicode is not a new contact', () => {
    const known = config({ knownContacts: ['bob@partner.com', 'kim@xn--bcher-kva.example'] });
    const update = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', title: 'Moved' };
    const decision = evaluatePolicy(update, known, state(), NOW, { notified: { attendees: ['kim@BÜCHER.example'], shown: [] } });
    assert.deepEqual(decision.reasons, ['auto_send']);
    assert.equal(decision.facts?.newContacts, 0);
  });

  it('a local part in another script is never a known contact, even where lower-casing would make it ASCII', () => {
    const known = config({ knownContacts: ['bob@partner.com', 'kim@acme.example'] });
    const update = { kind: 'calendar.write', operation: 'update', eventId: 'ev1', title: 'Moved' };
    // U+212A KELVIN SIGN lower-cases to an ASCII "k".
    const decision = evaluatePolicy(update, known, state(), NOW, { notified: { attendees: ['\u212Aim@acme.example'], shown: [] } });
    assert.ok(decision.reasons.includes('new_contact'));
  });

  it('correspondence at a Unicode domain is learnt as its ASCII form', () => {
    const derived = contactsFromCorrespondence('owner@acme.com', { events: [{ participants: ['Kim@Bücher.example', 'ｋｉｍ@x.example'] }] });
    assert.deepEqual(derived, { contacts: ['kim@xn--bcher-kva.example'], invalid: 1 });
  });

  it('an attendee that is no plain address counts against the limits but is not learnt: the state still reads back', () => {
    const sent = recordSend(state(), NOW, ['ｋｉｍ@xn--bcher-kva.example', 'zed@other.example', 'not an address']);
    assert.equal(sent.sendHistory.at(-1)?.recipients, 3);
    assert.ok(sent.knownContacts.has('zed@other.example'));
    const reread = parsePolicyState(JSON.parse(JSON.stringify(serialisePolicyState(sent))));
    assert.ok(reread.ok, JSON.stringify(reread));
    assert.deepEqual([...reread.state.knownContacts].sort(), [...sent.knownContacts].sort());
  });
});
