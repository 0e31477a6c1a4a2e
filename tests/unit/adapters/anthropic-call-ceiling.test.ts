// The Anthropic adapter tells its caller what each request may cost at most before sending it, so a
// budget can refuse the request before the client's mail leaves, and never under-reserves.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { AnthropicLlmClient } from '../../../agent-image/src/adapters/anthropic/anthropic-llm-client.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { type CallCeiling, type EmailForModel } from '../../../agent-image/src/ports/llm-client.ts';
import { anthropicEmulatorForBlock, emulatedAnthropicClient } from '../../helpers/anthropic-bed.ts';

const email: EmailForModel = { from: 'dana@customer.example', to: ['agent@acme.example'], cc: [], subject: 'Quote', date: '2026-12-01T10:00:00Z', body: 'Zahlung fällig: 数千円 '.repeat(400) };

describe('the ceiling of a Messages API request', () => {
  const emulator = anthropicEmulatorForBlock();
  let client: AnthropicLlmClient;
  beforeEach(() => {
    client = emulatedAnthropicClient(emulator, { maxTokens: 700 });
  });

  test('is reported before the request, bounds the tokens it is billed for, and carries the model and output cap', async () => {
    emulator.enqueue({ toolInput: { type: 'routine', confidence: 0.9, reasons: ['x'] } });
    const ceilings: CallCeiling[] = [];
    const result = await client.classify(email, {
      gate: {
        beforeRequest: (ceiling) => {
          assert.equal(emulator.received.length, 0, 'nothing is sent before the ceiling is reported');
          ceilings.push(ceiling);
        },
      },
    });
    assert.equal(ceilings.length, 1);
    assert.equal(ceilings[0]?.model, 'claude-sonnet-4-6');
    assert.equal(ceilings[0]?.outputTokens, 700);
    assert.ok((ceilings[0]?.inputTokens ?? 0) >= result.usage.inputTokens, `${ceilings[0]?.inputTokens} >= ${result.usage.inputTokens}`);
    assert.ok((ceilings[0]?.inputTokens ?? 0) >= Buffer.byteLength(email.body), 'at least the bytes of the email');
  });

  test('each HTTP request is reported: a gated call is not resent by the SDK behind the gate', async () => {
    const retrying = emulatedAnthropicClient(emulator, { maxRetries: 2 });
    emulator.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'busy' } }, { toolInput: { type: 'routine', confidence: 0.9, reasons: ['x'] } });
    const ceilings: CallCeiling[] = [];
    await assert.rejects(retrying.classify(email, { gate: { beforeRequest: (ceiling) => ceilings.push(ceiling) } }), (error: unknown) => error instanceof FleetError && error.retryable);
    assert.equal(emulator.received.length, ceilings.length, 'one report per request sent');
    assert.equal(emulator.received.length, 1);
  });

  test('a request its caller refuses is never sent', async () => {
    const refused = new FleetError('busy', 'no budget left');
    await assert.rejects(
      client.draftReply(
        email,
        '',
        { senderName: 'Sam', thread: [], notes: '' },
        {
          gate: {
            beforeRequest: () => {
              throw refused;
            },
          },
        },
      ),
      (error: unknown) => error === refused,
    );
    assert.equal(emulator.received.length, 0);
  });
});
