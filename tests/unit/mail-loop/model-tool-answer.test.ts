import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type Anthropic from '@anthropic-ai/sdk';
import { toolAnswer } from '../../../agent-image/src/adapters/anthropic/tool-answer.ts';

type Block = Anthropic.Message['content'][number];

const call = (input: unknown, name = 'classify_email'): Block => ({ type: 'tool_use', id: `toolu_${name}`, name, input }) as Block;
const text = (value: string): Block => ({ type: 'text', text: value, citations: null }) as Block;

describe("the model's answer to a forced tool call", () => {
  test('one call of the tool, stopped on it, is the answer (text beside it is ignored)', () => {
    assert.deepEqual(toolAnswer({ stop_reason: 'tool_use', content: [text('Sure.'), call({ type: 'routine' })] }, 'classify_email'), { ok: true, input: { type: 'routine' } });
  });

  test('several calls are ambiguous: none is picked', () => {
    const answer = toolAnswer({ stop_reason: 'tool_use', content: [call({ type: 'routine' }), call({ type: 'sensitive' })] }, 'classify_email');
    assert.equal(answer.ok, false);
    assert.deepEqual(!answer.ok && answer.issues, ['tool calls: 2']);
  });

  test('no call, or a call of another tool, is no answer', () => {
    assert.equal(toolAnswer({ stop_reason: 'tool_use', content: [] }, 'classify_email').ok, false);
    assert.equal(toolAnswer({ stop_reason: 'tool_use', content: [call({}, 'draft_reply')] }, 'classify_email').ok, false);
  });

  test('a call that is cut off, refused or paused is no answer, however whole it looks', () => {
    for (const stop of ['max_tokens', 'model_context_window_exceeded', 'refusal', 'pause_turn', 'end_turn', 'stop_sequence', null] as const) {
      const answer = toolAnswer({ stop_reason: stop, content: [call({ type: 'routine' })] }, 'classify_email');
      assert.equal(answer.ok, false, String(stop));
    }
  });
});
