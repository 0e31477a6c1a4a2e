import { modelRetirement, type ClientConfig } from '@agent-fleet/kernel/client-config';
import { MODEL_RETIREMENT_NOTICE_DAYS } from '@agent-fleet/kernel/settings-guard-rails';
import type { ItemOutcome } from '../../domain/onboarding-checklist.ts';

const DAY_MS = 86_400_000;
/** How far ahead a known retirement is mentioned (a pass that says when to change the model), days. */
export const MODEL_RETIREMENT_WARNING_DAYS = 90;

/**
 * The model the client's config pins, against the retirements this build knows (kernel's table, which
 * mirrors the SDK's). Fails when it is retired or retires within MODEL_RETIREMENT_NOTICE_DAYS: the API
 * then refuses every call (404) and the agent pauses. A retirement further ahead passes with a warning
 * line; a model the table does not know (a newer one) passes, since only a known retirement is a finding.
 * Pure.
 */
export function checkPinnedModel(config: Pick<ClientConfig, 'model'>, now: Date): ItemOutcome {
  const retires = modelRetirement(config.model);
  if (retires === null) return { status: 'pass', evidence: [`model ${config.model}: no retirement announced that this build knows of`] };
  const day = retires.toISOString().slice(0, 10);
  const daysLeft = Math.ceil((retires.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft <= 0) {
    return {
      status: 'fail',
      evidence: [`model ${config.model} was retired on ${day}: every model call is refused and the agent pauses; set model to a current one (fleet config set)`],
    };
  }
  if (daysLeft <= MODEL_RETIREMENT_NOTICE_DAYS) {
    return {
      status: 'fail',
      evidence: [`model ${config.model} is retired on ${day} (in ${daysLeft} day(s)): from then the agent pauses; set model to a current one before (fleet config set)`],
    };
  }
  const note = daysLeft <= MODEL_RETIREMENT_WARNING_DAYS ? `warning: model ${config.model} is retired on ${day} (in ${daysLeft} days); plan the change` : `model ${config.model} is retired on ${day}`;
  return { status: 'pass', evidence: [note] };
}
