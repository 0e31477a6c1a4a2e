// Writes that destroy or hide data under another name: a label that trashes or spams mail, a file
// overwrite. The gate holds them as it holds the deletions and moves they amount to.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { config, NOW, state } from './fixtures.ts';

const decide = (input: Record<string, unknown>) => evaluatePolicy(input, config(), state(), NOW);

describe('disguised deletions', () => {
  it('holds a label that sends mail to the trash as a deletion, whatever its case', () => {
    for (const label of ['TRASH', 'Trash', ' trash ']) {
      const decision = decide({ kind: 'mail.label', messageIds: ['m1'], add: ['triaged', label] });
      assert.equal(decision.decision, 'needs_approval', label);
      assert.deepEqual(decision.reasons, ['deletion'], label);
    }
  });

  it('holds a label that sends mail to spam as a move out of the inbox', () => {
    const decision = decide({ kind: 'mail.label', messageIds: ['m1'], add: ['SPAM'] });
    assert.deepEqual(decision.reasons, ['move']);
  });

  it('holds taking SPAM off ("not spam") as a move: it surfaces the mail and trains the filter for its sender', () => {
    for (const label of ['SPAM', 'Spam', ' spam ']) {
      const decision = decide({ kind: 'mail.label', messageIds: ['m1'], remove: [label] });
      assert.equal(decision.decision, 'needs_approval', label);
      assert.deepEqual(decision.reasons, ['move'], label);
    }
    assert.deepEqual(decide({ kind: 'mail.label', messageIds: ['m1'], add: ['INBOX'], remove: ['UNREAD', 'SPAM'] }).reasons, ['move']);
  });

  it('still lets ordinary labels, mark-read and archiving by label through', () => {
    for (const input of [
      { kind: 'mail.label', messageIds: ['m1'], add: ['AgentFleet/spam'] },
      { kind: 'mail.label', messageIds: ['m1'], add: ['trash-talk'] },
      { kind: 'mail.label', messageIds: ['m1'], remove: ['UNREAD'] },
      { kind: 'mail.label', messageIds: ['m1'], remove: ['TRASH'] },
      { kind: 'mail.label', messageIds: ['m1'], remove: ['AgentFleet/spam'] },
    ]) {
      assert.deepEqual(decide(input).reasons, ['permitted'], JSON.stringify(input));
    }
  });

  it('holds a file overwrite as a deletion of the content it replaces', () => {
    const decision = decide({ kind: 'files.write', operation: 'overwrite', fileId: '13', content: '' });
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['deletion']);
    assert.deepEqual(decide({ kind: 'files.write', operation: 'append', fileId: '13', content: 'more' }).reasons, ['permitted']);
  });
});
