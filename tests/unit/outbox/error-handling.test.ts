import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { DEFAULT_BACKOFF, fullJitterDelay } from '../../../agent-image/src/services/outbox/backoff.ts';
import { classifyProviderError } from '../../../agent-image/src/services/outbox/classify-provider-error.ts';

describe('provider error categories', () => {
  const cases: Array<[string, unknown, string]> = [
    ['FleetError timeout', new FleetError('timeout', 't'), 'transient'],
    ['FleetError unavailable', new FleetError('unavailable', 'u'), 'transient'],
    ['FleetError unauthorized', new FleetError('unauthorized', 'a'), 'auth'],
    ['FleetError forbidden', new FleetError('forbidden', 'f'), 'auth'],
    ['FleetError invalid_input', new FleetError('invalid_input', 'i'), 'data'],
    ['FleetError internal, retryable', new FleetError('internal', 'r', { retryable: true }), 'transient'],
    ['FleetError internal', new FleetError('internal', 'x'), 'logic'],
    ['HTTP 429', { status: 429 }, 'transient'],
    ['HTTP 503 in response', { response: { status: 503 } }, 'transient'],
    ['HTTP 401 statusCode', { statusCode: 401 }, 'auth'],
    ['HTTP 400', { status: 400 }, 'data'],
    ['HTTP 404', { status: 404 }, 'logic'],
    ['ECONNRESET', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'transient'],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'transient'],
    ['plain Error', new Error('???'), 'logic'],
    ['a string', 'boom', 'logic'],
  ];
  for (const [name, error, category] of cases) {
    it(`${name} is ${category}`, () => assert.equal(classifyProviderError(error), category));
  }
});

describe('full-jitter backoff', () => {
  it('stays below an exponentially growing ceiling capped at the maximum', () => {
    const policy = { ...DEFAULT_BACKOFF, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(fullJitterDelay(0, policy, () => 0.999), 99);
    assert.equal(fullJitterDelay(3, policy, () => 0.999), 799);
    assert.equal(fullJitterDelay(10, policy, () => 0.999), 999);
    assert.equal(fullJitterDelay(5, policy, () => 0), 0);
  });

  it('spreads delays across the whole range', () => {
    const delays = Array.from({ length: 500 }, () => fullJitterDelay(2, { ...DEFAULT_BACKOFF, baseDelayMs: 100 }));
    assert.ok(Math.min(...delays) < 100 && Math.max(...delays) > 300 && Math.max(...delays) < 400);
  });
});
