import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBlockList } from '../../../agent-image/src/domain/policy/block-list.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { gmailMailbox } from '../../../agent-image/src/domain/policy/gmail-address.ts';
import { answering, config, NOW, send, state } from './fixtures.ts';

describe('block list: Gmail addresses match by the mailbox they reach', () => {
  const blockList = compileBlockList(['CEO@gmail.com', 'j.doe@googlemail.com']);

  it('a blocked gmail.com address also blocks its dotted, tagged and googlemail.com spellings', () => {
    for (const address of ['ceo@gmail.com', 'c.e.o@gmail.com', 'c.e.o+x@gmail.com', 'ceo@googlemail.com', '.c.eo.@googlemail.com']) {
      assert.equal(blockList.match(address), 'ceo@gmail.com', address);
    }
  });

  it('an entry written with dots or at googlemail.com blocks the plain gmail.com mailbox', () => {
    for (const address of ['jdoe@gmail.com', 'j.d.o.e@gmail.com', 'j.doe@googlemail.com']) {
      assert.equal(blockList.match(address), 'j.doe@googlemail.com', address);
    }
  });

  it('gmail.com and googlemail.com are one domain for a domain entry', () => {
    assert.equal(compileBlockList(['gmail.com']).match('anyone@googlemail.com'), 'gmail.com');
    assert.equal(compileBlockList(['googlemail.com']).match('anyone@gmail.com'), 'googlemail.com');
  });

  it('other domains keep their dots: j.doe and jdoe are two mailboxes there', () => {
    const elsewhere = compileBlockList(['ceo@acme.com', 'ceo@gmail.com.evil.example']);
    for (const address of ['c.e.o@acme.com', 'ceo@googlemail.com.evil.example', 'c.e.o@gmail.com.evil.example', 'ceo@mail.gmail.com']) {
      assert.equal(elsewhere.match(address), undefined, address);
    }
    assert.equal(blockList.match('ceoo@gmail.com'), undefined);
    assert.equal(gmailMailbox('c.e.o@acme.com'), null);
    assert.equal(gmailMailbox('c.e.o+news@googlemail.com'), 'ceo@gmail.com');
  });

  it('the gate holds a send to a dotted spelling of a blocked Gmail address', () => {
    const known = state({ knownContacts: new Set(['c.e.o@googlemail.com']), knownDomains: new Set(['googlemail.com']) });
    const decision = evaluatePolicy(send({ to: ['c.e.o@googlemail.com'] }), config({ blockList: ['ceo@gmail.com'] }), known, NOW, answering('c.e.o@googlemail.com'));
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['blocked_recipient']);
  });
});
