import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileBlockList } from '../../../agent-image/src/domain/policy/block-list.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { answering, config, NOW, send, state } from './fixtures.ts';

describe('block list: addresses that route on to a blocked host', () => {
  const blockList = compileBlockList(['rival.com', '*.enemy.org']);

  it('matches a blocked host named by %-routing or a bang path in the local part', () => {
    assert.equal(blockList.match('x%rival.com@relay.example'), 'rival.com');
    assert.equal(blockList.match('x%mail.enemy.org@relay.example'), '*.enemy.org');
    assert.equal(blockList.match('rival.com!x@relay.example'), 'rival.com');
    assert.equal(blockList.match('a.example!rival.com!x@relay.example'), 'rival.com');
  });

  it('leaves ordinary local parts, and routes to other hosts, alone', () => {
    for (const address of ['x%other.com@relay.example', 'x%rival@relay.example', 'rival.com@relay.example', '100%sure@relay.example']) {
      assert.equal(blockList.match(address), undefined, address);
    }
  });

  it('the gate holds such a send as blocked, even to a known contact’s relay', () => {
    const known = state({ knownContacts: new Set(['x%rival.com@partner.com']), knownDomains: new Set(['partner.com']) });
    const decision = evaluatePolicy(send({ to: ['x%rival.com@partner.com'] }), config({ blockList: ['rival.com'] }), known, NOW, answering('x%rival.com@partner.com'));
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['blocked_recipient']);
  });
});
