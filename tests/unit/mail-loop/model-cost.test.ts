import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { llmCostUsd } from '../../../agent-image/src/services/mail-loop/llm-cost.ts';

const perMillion = (model: string) => [llmCostUsd({ model, inputTokens: 1_000_000, outputTokens: 0 }), llmCostUsd({ model, inputTokens: 0, outputTokens: 1_000_000 })];

describe('the cost of a model call', () => {
  test('Opus 4.5 and later is priced at its own list price, not at Opus 4.1', () => {
    for (const model of ['claude-opus-4-6', 'claude-opus-4-7', 'claude-opus-4-8', 'claude-opus-5']) assert.deepEqual(perMillion(model), [5, 25], model);
    assert.deepEqual(perMillion('claude-opus-5-5'), [4, 20]);
    assert.deepEqual(perMillion('claude-opus-4-1'), [15, 75]);
  });

  test('the newer Sonnet and Haiku models have prices of their own', () => {
    assert.deepEqual(perMillion('claude-sonnet-5-5'), [2, 10]);
    assert.deepEqual(perMillion('claude-sonnet-4-6'), [3, 15]);
    assert.deepEqual(perMillion('claude-haiku-5-5'), [0.5, 2.5]);
  });

  test('an unknown model is priced high, so a report never understates', () => {
    for (const model of ['claude-unknown-9', 'claude-fable-5-2', 'claude-mythos-preview']) assert.deepEqual(perMillion(model), [15, 75], model);
  });
});
