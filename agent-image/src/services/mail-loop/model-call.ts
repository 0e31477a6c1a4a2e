import { llmCall } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import { ModelOutputError, type TokenUsage } from '../../ports/llm-client.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { llmCostUsd } from './llm-cost.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';
import { toReview } from './review-queue.ts';

type Parameters = { [key: string]: JsonValue };

/** Why the model is asked: recorded on every call. */
export type ModelPurpose = 'classify' | 'draft';

export interface ModelCallDeps {
  context: RuntimeContext;
  retry: RetryOptions;
}

/** A model's answer, or the message's progress once an unusable answer sent it to review. */
export type ModelResult<T> = { ok: true; value: T; usage: TokenUsage } | { ok: false; progress: MessageProgress };

/**
 * One model call about a message: kill check first, retried when throttled, its tokens and cost counted
 * and audited (`llm_call`, with `facts` of the answer). Malformed output is audited as a failed call and
 * the message goes to human review. Any other error goes back to the caller.
 */
export async function callModel<T>(
  deps: ModelCallDeps,
  purpose: ModelPurpose,
  messageId: string,
  call: () => Promise<{ value: T; usage: TokenUsage }>,
  facts: (value: T) => Parameters = () => ({}),
): Promise<ModelResult<T>> {
  const { context } = deps;
  context.kill.assertAlive('model call');
  try {
    const result = await withProviderRetry(call, deps.retry);
    accountModelCall(context, purpose, messageId, result.usage, 'success', facts(result.value));
    return { ok: true, value: result.value, usage: result.usage };
  } catch (error) {
    if (!(error instanceof ModelOutputError)) throw error;
    accountModelCall(context, purpose, messageId, error.usage, 'failure', { issues: error.issues.slice(0, 3) });
    return { ok: false, progress: await toReview(context, messageId, 'malformed_model_output', { purpose }) };
  }
}

/** The `llm_call` record's parameters: what was asked, of which model, at what cost. Pure. */
export function modelCallParameters(purpose: ModelPurpose, messageId: string, usage: TokenUsage, extra: Parameters): Parameters {
  return {
    purpose,
    message_id: messageId,
    model: usage.model,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cost_usd: llmCostUsd(usage),
    ...extra,
  };
}

function accountModelCall(context: RuntimeContext, purpose: ModelPurpose, messageId: string, usage: TokenUsage, result: 'success' | 'failure', extra: Parameters): void {
  context.metrics.llmTokens('input', usage.inputTokens);
  context.metrics.llmTokens('output', usage.outputTokens);
  // Not awaited on its own: the audit log writes in order, so the next awaited record (the draft's
  // intent, or the review) is durable only after this one; a failed append fails that one too.
  const appended = context.audit.append(llmCall(messageId, modelCallParameters(purpose, messageId, usage, extra), result));
  appended.catch((error: unknown) => context.logger.error('audit append failed', { error }));
}
