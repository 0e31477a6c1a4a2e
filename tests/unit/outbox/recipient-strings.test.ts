import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { buildRawMessage } from '../../../agent-image/src/adapters/gmail/gmail-mime.ts';
import { validateOutboundMessage } from '../../../agent-image/src/services/outbox/validate-message.ts';
import type { OutboundMessage } from '../../../agent-image/src/ports/send-receipts.ts';

// Strings the MIME builder reads as other (or more) recipients than the one address they seem to be.
const SMUGGLED = ['bob,x@evil.example', 'bob;x@evil.example', 'bob<x@evil.example>', '"bob@partner.example"<x@evil.example>', 'undisclosed:x@evil.example'];

const message = (overrides: Partial<OutboundMessage>): OutboundMessage => ({
  to: ['bob@partner.example'],
  cc: [],
  bcc: [],
  subject: 'Hello',
  text: 'Hi',
  html: null,
  inReplyTo: null,
  threadId: null,
  headers: {},
  ...overrides,
});

describe('recipient strings on the way out: one plain address each, or refused', () => {
  it('the outbox refuses a recipient the MIME builder would parse into another address', () => {
    for (const address of SMUGGLED) {
      assert.notDeepEqual(validateOutboundMessage(message({ to: [address] })), [], address);
      assert.notDeepEqual(validateOutboundMessage(message({ cc: [address] })), [], address);
    }
    assert.deepEqual(validateOutboundMessage(message({ to: ['Bob@Partner.example'], cc: ['carol+x@partner.example'] })), []);
  });

  it('the Gmail MIME builder refuses them too, instead of writing the parsed address into To or Cc', async () => {
    const mime = { from: 'owner@acme.example', subject: 's', body: 'b', inReplyTo: null, references: [], idempotencyKey: '0123456789abcdef0123456789abcdef' };
    for (const address of SMUGGLED) {
      await assert.rejects(buildRawMessage({ ...mime, to: [address], cc: [] }), (error: unknown) => error instanceof FleetError && error.code === 'invalid_input', address);
      await assert.rejects(buildRawMessage({ ...mime, to: ['bob@partner.example'], cc: [address] }), FleetError, address);
    }
    const raw = Buffer.from(await buildRawMessage({ ...mime, to: ['bob@partner.example'], cc: [] }), 'base64url').toString();
    assert.match(raw, /^To: bob@partner\.example\r$/m);
  });
});
