// A sender chooses the length of its From header: the facts kept with a message's progress must still
// read back when the agent restarts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { normaliseAddress } from '@agent-fleet/kernel/email-address';
import { inboundFacts, MAX_UNPARSED_SENDER } from '../../../agent-image/src/domain/auto-reply/inbound-facts.ts';
import { KeyRing } from '../../../agent-image/src/services/audit-log/key-ring.ts';
import { AgentStateStore } from '../../../agent-image/src/services/runtime/agent-state-store.ts';
import { templateFacts } from '../../../agent-image/src/services/mail-loop/compose-reply.ts';
import type { MailMessage } from '../../../agent-image/src/ports/mail-provider.ts';
import { temporaryDirectory } from '../audit/helpers.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const plain = { replyTo: [], subject: 'Invoice 7', textBody: 'Please find it attached.', authenticationResults: [] };

describe('an overlong From address', () => {
  // What mailparser gives for `From: <"aaa…aaa"@example.com>`: the quoted local part, whatever its length.
  const overlong = `${'A'.repeat(1500)}@example.com`;

  test('is kept cut, lower-cased, and still matches no contact', () => {
    const facts = inboundFacts('gmail', { ...plain, fromAddress: overlong }, new Set([overlong.toLowerCase()]));
    assert.equal([...facts.sender].length, MAX_UNPARSED_SENDER);
    assert.ok(facts.sender.startsWith('aaaa') && facts.sender.endsWith('…'));
    assert.equal(normaliseAddress(facts.sender), undefined);
    assert.equal(facts.knownContact, false);
  });

  test('a message read with it leaves a state the agent can open again', async () => {
    const directory = await temporaryDirectory('overlong-sender');
    cleanups.push(directory.remove);
    const keys = KeyRing.single(randomBytes(32));
    const inbound = inboundFacts('gmail', { ...plain, fromAddress: overlong }, new Set());
    const state = await AgentStateStore.open({ directory: directory.path, keys });
    await state.setProgress('m-1', { stage: 'read', at: new Date().toISOString(), inbound });
    await state.close();
    const reopened = await AgentStateStore.open({ directory: directory.path, keys });
    cleanups.push(() => reopened.close());
    assert.equal(reopened.progress('m-1')?.inbound?.sender, inbound.sender);
  });

  test('an ordinary unparsable From is kept whole', () => {
    const facts = inboundFacts('gmail', { ...plain, fromAddress: 'Bob@Exаmple.com' }, new Set());
    assert.equal(facts.sender, 'bob@exаmple.com');
  });
});

describe('an overlong subject or display name answered from a template', () => {
  test('the template facts kept with the message are bounded, so the state opens again', async () => {
    const directory = await temporaryDirectory('overlong-template-facts');
    cleanups.push(directory.remove);
    const keys = KeyRing.single(randomBytes(32));
    const message = { id: 'm-2', subject: 'S'.repeat(20_000), from: { address: 'bob@partner.example', name: 'B'.repeat(5000) } } as unknown as MailMessage;
    const facts = templateFacts(message, [], 'C'.repeat(3000));
    assert.equal(facts.originalSubject.length, 10_000);
    assert.deepEqual(facts.nameSources.map((name) => name?.length), [1000, 1000]);
    const state = await AgentStateStore.open({ directory: directory.path, keys });
    await state.setProgress('m-2', { stage: 'drafted', at: new Date().toISOString(), template: { choice: null, facts } });
    await state.close();
    const reopened = await AgentStateStore.open({ directory: directory.path, keys });
    cleanups.push(() => reopened.close());
    assert.equal(reopened.progress('m-2')?.template?.facts.originalSubject.length, 10_000);
  });
});
