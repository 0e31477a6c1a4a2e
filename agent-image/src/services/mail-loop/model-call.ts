import { llmCall } from '../../domain/audit-events.ts';
import type { JsonValue } from '../../domain/audit-record.ts';
import { ModelOutputError, type CallCeilingGate, type TokenUsage } from '../../ports/llm-client.ts';
import type { MessageProgress } from '../runtime/agent-state-store.ts';
import type { RuntimeContext } from '../runtime/runtime-context.ts';
import { llmCostUsd } from './llm-cost.ts';
import { ModelCallOverBudgetError, type Reservation } from './model-budget.ts';
import { withProviderRetry, type RetryOptions } from './provider-retry.ts';
import { toReview } from './review-queue.ts';

type Parameters = { [key: string]: JsonValue };

/** Why the model is asked: recorded on every call. */
export type ModelPurpose = 'classify' | 'draft';

export interface ModelCallDeps {
  context: RuntimeContext;
  retry: RetryOptions;
}

/**
 * Answered (so billed) model calls one message may take in this process. A message needs two (classify,
 * draft); a stage that fails after its model answered (a label or draft write the mailbox keeps refusing
 * as transient, which the loop retries every round without end) asks the model again each round. Past
 * this the message goes to review instead of spending the client's tokens again.
 */
export const MODEL_CALLS_PER_MESSAGE = 8;
/** A model's answer, or the message's progress once an unusable answer sent it to review. */
export type ModelResult<T> = { ok: true; value: T; usage: TokenUsage } | { ok: false; progress: MessageProgress };

/**
 * One model call about a message: kill check before every attempt, admitted by the client's daily model
 * budget (model-budget.ts: ModelBudgetExhaustedError once it is spent; the message keeps its place),
 * retried when throttled, its tokens and cost counted and audited (`llm_call`, with `facts` of the
 * answer). Malformed output is audited as a failed call and the message goes to human review, as does a
 * message that has had its share of answers (MODEL_CALLS_PER_MESSAGE) or whose one call could cost more
 * than the whole daily budget. Any other error goes back to the caller. `call` must hand `gate` to the
 * LlmClient method: it holds each request's ceiling against the budget before the request is sent.
 */
export async function callModel<T>(
  deps: ModelCallDeps,
  purpose: ModelPurpose,
  messageId: string,
  call: (gate: CallCeilingGate) => Promise<{ value: T; usage: TokenUsage }>,
  facts: (value: T) => Parameters = () => ({}),
  /** The message's Subject, kept with it if the call parks it for review (review-queue.ts). */
  subject?: string,
): Promise<ModelResult<T>> {
  const { context } = deps;
  context.kill.assertAlive('model call');
  const budget = context.modelBudget;
  await budget.admit();
  const ledger = budget.calls;
  // A message a human sent back from review (once) gets a fresh share: its old count would park it again at once.
  const countKey = context.state.progress(messageId)?.reviewRetriedFrom === undefined ? messageId : `${messageId}\u0000retry`;
  const spent = ledger.answered(countKey);
  if (spent >= MODEL_CALLS_PER_MESSAGE) {
    return { ok: false, progress: await toReview(context, messageId, 'model_call_limit', { purpose, model_calls: spent }, subject) };
  }
  // The adapter tells the gate each request's ceiling just before sending it: held against the budget
  // until the answer says what it cost (a retried request gives back what the failed one held).
  let reservation: Reservation | null = null;
  const gate: CallCeilingGate = {
    beforeRequest(ceiling) {
      budget.release(reservation);
      reservation = null;
      reservation = budget.reserve(ceiling);
    },
  };
  // Every attempt sends the client's mail to the model's API: none after a kill, even mid-backoff.
  const attempt = () => {
    context.kill.assertAlive('model call');
    return call(gate);
  };
  try {
    const result = await withProviderRetry(attempt, deps.retry);
    budget.settle(reservation, result.usage);
    ledger.count(countKey);
    accountModelCall(context, purpose, messageId, result.usage, 'success', facts(result.value));
    return { ok: true, value: result.value, usage: result.usage };
  } catch (error) {
    if (!(error instanceof ModelOutputError)) {
      budget.release(reservation);
      if (error instanceof ModelCallOverBudgetError) {
        return { ok: false, progress: await toReview(context, messageId, 'model_call_over_budget', { purpose, ceiling_usd: error.ceilingUsd }, subject) };
      }
      throw error;
    }
    budget.settle(reservation, error.usage);
    ledger.count(countKey);
    accountModelCall(context, purpose, messageId, error.usage, 'failure', { issues: error.issues.slice(0, 3) });
    return { ok: false, progress: await toReview(context, messageId, 'malformed_model_output', { purpose }, subject) };
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
  context.metrics.llmCost(llmCostUsd(usage));
  // Not awaited on its own: the audit log writes in order, so the next awaited record (the draft's
  // intent, or the review) is durable only after this one; a failed append fails that one too.
  const appended = context.audit.append(llmCall(messageId, modelCallParameters(purpose, messageId, usage, extra), result));
  appended.catch((error: unknown) => context.logger.error('audit append failed', { error }));
}
