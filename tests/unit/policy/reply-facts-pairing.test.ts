// The facts the gate judges a reply on are of one message: the runtime ties them to its id, and the gate
// clears a reply on them only when the reply answers that message. Facts of a clean message from a known
// contact never clear a reply to another message (a runtime mix-up, or a proposal that pairs a reply with
// a cleaner message's facts), whatever the reply says.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AutoSendContext } from '../../../agent-image/src/domain/policy/auto-send-rules.ts';
import { readAnsweringLine } from '../../../agent-image/src/domain/policy/answered-message-input.ts';
import { evaluatePolicy } from '../../../agent-image/src/domain/policy/evaluate-policy.ts';
import type { InboundFacts } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';
import { autoSendContext } from '../../../agent-image/src/services/mail-loop/propose-send.ts';
import { answering, config, NOW, send, state } from './fixtures.ts';

const SENDER = 'bob@partner.com';

describe('the facts a reply is judged on are those of the message it answers', () => {
  it('auto-sends an opted-in reply on the facts of the message it answers', () => {
    assert.deepEqual(evaluatePolicy(send({ inReplyTo: 'm-a' }), config(), state(), NOW, answering(SENDER, 'm-a')).reasons, ['auto_send']);
  });

  it('holds a reply to one message judged on the facts of another, and says why', () => {
    const decision = evaluatePolicy(send({ inReplyTo: 'm-b' }), config(), state(), NOW, answering(SENDER, 'm-a'));
    assert.equal(decision.decision, 'needs_approval');
    assert.ok(decision.reasons.includes('sender_unauthenticated'), decision.reasons.join());
    assert.ok(decision.reasons.includes('recipient_not_sender'), decision.reasons.join());
    assert.match(decision.details?.join(' ') ?? '', /facts given are of another message than the one the send answers/);
    assert.equal(decision.facts?.senderAuthenticated, false);
  });

  it('holds a send that names no message answered but comes with the facts of one', () => {
    const decision = evaluatePolicy(send({ inReplyTo: undefined }), config(), state(), NOW, answering(SENDER, 'm-a'));
    assert.equal(decision.decision, 'needs_approval');
    assert.match(decision.details?.join(' ') ?? '', /names no message it answers/);
  });

  it('holds a reply on facts that say no message they are of', () => {
    const unnamed: AutoSendContext = { inbound: { senderAddress: SENDER, senderAuthenticated: true, injectionSignals: [] } };
    const decision = evaluatePolicy(send({ inReplyTo: 'm-a' }), config(), state(), NOW, { autoSend: unnamed });
    assert.equal(decision.decision, 'needs_approval');
    assert.match(decision.details?.join(' ') ?? '', /do not say which message they are of/);
  });

  it('a mismatch is held under the template-only default as well, not only under the free-text opt-in', () => {
    const decision = evaluatePolicy(send({ inReplyTo: 'm-b' }), config({ autoReply: {} }), state(), NOW, answering(SENDER, 'm-a'));
    assert.equal(decision.decision, 'needs_approval');
    assert.ok(decision.reasons.includes('sender_unauthenticated'), decision.reasons.join());
  });
});

describe('the mail loop and the policy CLI tie the facts to their message', () => {
  const facts: InboundFacts = { sender: SENDER, senderAuthenticated: true, authReason: 'dmarc_pass', knownContact: true, injectionSignals: [] };

  it('the context of a message kept in progress names that message, and the gate clears only its own reply', () => {
    const context = autoSendContext({ inbound: facts }, 'm-a');
    assert.equal(context?.inbound.messageId, 'm-a');
    assert.deepEqual(evaluatePolicy(send({ inReplyTo: 'm-a' }), config(), state(), NOW, { autoSend: context! }).reasons, ['auto_send']);
    assert.equal(evaluatePolicy(send({ inReplyTo: 'm-b' }), config(), state(), NOW, { autoSend: context! }).decision, 'needs_approval');
  });

  it('a context built without the message id clears no reply', () => {
    const context = autoSendContext({ inbound: facts });
    assert.equal(evaluatePolicy(send({ inReplyTo: 'm-a' }), config(), state(), NOW, { autoSend: context! }).decision, 'needs_approval');
  });

  it('a policy CLI line pairs its facts with the message its action answers', () => {
    const line = readAnsweringLine({ action: send({ inReplyTo: 'm-7' }), answering: { sender: SENDER, senderAuthenticated: true } });
    assert.ok('autoSend' in line && line.autoSend !== undefined);
    assert.equal(line.autoSend.inbound.messageId, 'm-7');
    const unpaired = readAnsweringLine({ action: send({ inReplyTo: undefined }), answering: { sender: SENDER, senderAuthenticated: true } });
    assert.ok('autoSend' in unpaired && unpaired.autoSend !== undefined);
    assert.equal(unpaired.autoSend.inbound.messageId, undefined);
  });
});
