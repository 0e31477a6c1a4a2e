// The API refuses a whole account in more ways than 401-404: a 400 when the prepaid credit runs out or
// the organisation's own spend limit is reached, error codes of spend limits on a 429. Each must pause the
// agent (a ProviderAuthError of the model) instead of sending every message to review in turn.
import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type { AnthropicLlmClient } from '../../../agent-image/src/adapters/anthropic/anthropic-llm-client.ts';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { EmailForModel } from '../../../agent-image/src/ports/llm-client.ts';
import { ProviderAuthError, ProviderThrottledError } from '../../../agent-image/src/ports/mail-provider.ts';
import { anthropicEmulatorForBlock, emulatedAnthropicClient } from '../../helpers/anthropic-bed.ts';

const email: EmailForModel = { from: 'dana@customer.example', to: ['agent@acme.example'], cc: [], subject: 'Hello', date: '2026-12-01T10:00:00Z', body: 'Hi there.' };

const isModelRefusal = (error: unknown) => error instanceof ProviderAuthError && error.service === 'model' && error.kind !== 'invalid_token';
const isRequestRefusal = (error: unknown) => error instanceof FleetError && !(error instanceof ProviderAuthError) && !error.retryable;

describe('account refusals of the Messages API', () => {
  const emulator = anthropicEmulatorForBlock();
  let client: AnthropicLlmClient;
  beforeEach(() => {
    client = emulatedAnthropicClient(emulator);
  });

  test('a credit balance too low (400 invalid_request_error) pauses like a billing refusal', async () => {
    emulator.setAccount('credit_exhausted');
    await assert.rejects(client.classify(email), (error: unknown) => {
      assert.ok(isModelRefusal(error), String(error));
      assert.match((error as Error).message, /credit balance too low \(400\)/);
      return true;
    });
  });

  test('the organisation’s own usage limit reached (400) pauses too', async () => {
    emulator.setAccount('usage_limit_reached');
    await assert.rejects(client.draftReply(email, '', { senderName: 'Sam', thread: [], notes: '' }), isModelRefusal);
  });

  test('a billing_error type or an account error code pauses whatever its status; a ramp limit is retried', async () => {
    emulator.enqueue({ error: { status: 400, type: 'billing_error', message: 'billing' } });
    await assert.rejects(client.classify(email), isModelRefusal);
    emulator.enqueue({ error: { status: 429, type: 'rate_limit_error', message: 'limit', errorCode: 'enforced_spend_limit_reached' } });
    await assert.rejects(client.classify(email), isModelRefusal);
    emulator.enqueue({ error: { status: 400, type: 'invalid_request_error', message: 'on hold', errorCode: 'organization_on_hold' } });
    await assert.rejects(client.classify(email), isModelRefusal);
    emulator.enqueue({ error: { status: 429, type: 'rate_limit_error', message: 'ramp', errorCode: 'ramp_limit_exceeded', retryAfterSeconds: 3 } });
    await assert.rejects(client.classify(email), (error: unknown) => error instanceof ProviderThrottledError && error.retryAfterMs === 3000);
  });

  test('a 400 or 413 about this request alone stays a refusal of the request, 529 overloaded a retry', async () => {
    emulator.enqueue({ error: { status: 400, type: 'invalid_request_error', message: 'messages.0.content: credit card numbers are not a balance' } });
    await assert.rejects(client.classify(email), isRequestRefusal);
    emulator.enqueue({ error: { status: 413, type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' } });
    await assert.rejects(client.classify(email), isRequestRefusal);
    emulator.enqueue({ error: { status: 529, type: 'overloaded_error', message: 'Overloaded' } });
    await assert.rejects(client.classify(email), ProviderThrottledError);
  });
});
