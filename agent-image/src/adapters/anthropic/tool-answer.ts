import type Anthropic from '@anthropic-ai/sdk';

/** The input of the one tool call an answer is made of, or why the answer is not one. */
export type ToolAnswer = { ok: true; input: unknown } | { ok: false; problem: string; issues: string[] };

/**
 * The answer of a forced tool call: usable only when the model finished by calling `toolName` exactly
 * once. Any other stop means the call is not whole or not meant: `max_tokens` and
 * `model_context_window_exceeded` cut it off, `refusal` and `pause_turn` did not complete it. Several
 * calls are ambiguous (which classification, which draft?), so none is picked. Pure.
 */
export function toolAnswer(message: Pick<Anthropic.Message, 'stop_reason' | 'content'>, toolName: string): ToolAnswer {
  const stop = String(message.stop_reason);
  if (message.stop_reason !== 'tool_use') return { ok: false, problem: `stopped with ${stop} before a whole ${toolName} call`, issues: [`stop_reason: ${stop}`] };
  const calls = message.content.filter((block) => block.type === 'tool_use');
  if (calls.length !== 1) return { ok: false, problem: `made ${calls.length} tool calls, not one ${toolName} call`, issues: [`tool calls: ${calls.length}`] };
  const [call] = calls;
  if (call === undefined || call.name !== toolName) return { ok: false, problem: `did not call ${toolName}`, issues: ['tool call: another tool'] };
  return { ok: true, input: call.input };
}
