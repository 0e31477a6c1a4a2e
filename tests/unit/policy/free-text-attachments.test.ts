import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AutoSendContext } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import { ANSWERED, config, NOW, send, state } from './fixtures.ts';

// The free-text opt-in accepts text the model writes. An attachment names a file of the client's by id: a
// model steered by an email can send a whole document it never read, and no one looks at it.

const SENDER = 'bob@partner.com';
const inbound: AutoSendContext = { inbound: { messageId: ANSWERED, senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] } };
const decide = (overrides: Record<string, unknown>, context?: AutoSendContext) =>
  evaluatePolicy(send(overrides), config(), state(), NOW, context === undefined ? {} : { autoSend: context });

describe('free-text auto-send never carries an attachment', () => {
  it('holds an opted-in free-text reply to its authenticated sender that attaches a file', () => {
    const decision = decide({ attachments: [{ fileId: 'drive-file-1', name: 'Q3 accounts.xlsx' }] }, inbound);
    assert.equal(decision.decision, 'needs_approval');
    assert.deepEqual(decision.reasons, ['free_text']);
    assert.match(decision.details?.join(' ') ?? '', /attachment/);
  });

  it('holds an opted-in free-text send to a known contact that attaches a file', () => {
    assert.deepEqual(decide({ inReplyTo: undefined, attachments: [{ fileId: 'drive-file-1' }] }).reasons, ['free_text']);
    assert.deepEqual(decide({ attachments: [{ fileId: 'drive-file-1' }] }, inbound).reasons, ['free_text']);
  });

  it('still auto-sends opted-in free text without an attachment', () => {
    assert.deepEqual(decide({}, inbound).reasons, ['auto_send']);
    assert.deepEqual(decide({ attachments: null }, inbound).reasons, ['auto_send']);
  });
});
