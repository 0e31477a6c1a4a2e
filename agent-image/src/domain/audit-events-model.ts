import type { AuditEvent } from './audit-events.ts';

/**
 * The audit events of the model budget (model-budget.ts), kept apart from audit-events.ts like the CRM's.
 * Pure.
 */

/**
 * The day's model budget is spent: model work waits until `resumes_at` (the client's next local midnight,
 * or a raised budget). A `pause` of the target `model`, like the CRM's pause: the daily summary lists it
 * among the anomalies.
 */
export function modelBudgetReached(parameters: { day: string; limitUsd: number; spentUsd: number; resumesAt: string }): AuditEvent {
  return {
    action_type: 'pause',
    actor: 'system',
    target: 'model',
    parameters: {
      reason: 'model_budget',
      day: parameters.day,
      limit_usd: parameters.limitUsd,
      spent_usd: parameters.spentUsd,
      resumes_at: parameters.resumesAt,
    },
    approval_status: 'not_required',
    approved_by: null,
    result: 'success',
  };
}
