// The per-message count of answered model calls: bounded however many messages are read.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ModelCallLedger } from '../../../agent-image/src/services/mail-loop/model-call-ledger.ts';

describe('the ledger of answered model calls', () => {
  test('counts per message', () => {
    const ledger = new ModelCallLedger();
    ledger.count('m-1');
    ledger.count('m-1');
    ledger.count('m-2');
    assert.equal(ledger.answered('m-1'), 2);
    assert.equal(ledger.answered('m-2'), 1);
    assert.equal(ledger.answered('m-3'), 0);
  });

  test('past its capacity forgets the least recently answered message first', () => {
    const ledger = new ModelCallLedger(2);
    ledger.count('old');
    ledger.count('kept');
    ledger.count('old');
    ledger.count('new');
    assert.equal(ledger.answered('kept'), 0, 'answered least recently');
    assert.equal(ledger.answered('old'), 2);
    assert.equal(ledger.answered('new'), 1);
  });
});
