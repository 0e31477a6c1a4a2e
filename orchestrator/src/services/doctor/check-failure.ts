import { isFleetError } from '@agent-fleet/kernel/fleet-error';
import type { ItemOutcome } from '../../domain/onboarding-checklist.ts';

/**
 * Whether an error says only that what was asked did not answer now (an agent that is stopped or
 * unreachable, a service that timed out or is busy), so asking again later can help. It says nothing of
 * the control the item is about.
 */
export function isNotAnswering(error: unknown): boolean {
  return (
    isFleetError(error) &&
    (error.retryable || error.code === 'unavailable' || error.code === 'timeout' || error.code === 'busy')
  );
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The outcome of a check that threw instead of answering. A check that could not run is not a failed
 * control: when what it asks did not answer, the item is pending with when to run the doctor again. Any
 * other error (an agent refused for its identity, a client without its control token, a bug) is a fault
 * someone has to put right, so it fails, saying so.
 */
export function outcomeOfCheckError(error: unknown, what: string, clientId: string): ItemOutcome {
  if (isNotAnswering(error))
    return {
      status: 'pending',
      evidence: [
        `not checked: ${what} did not answer (${messageOf(error)}); run fleet doctor ${clientId} again once it does`,
      ],
    };
  return { status: 'fail', evidence: [`${what} could not be checked: ${messageOf(error)}`] };
}
