import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** One idempotent step of a multi-step operation, with the compensation that undoes it. */
export interface SagaStep<Context> {
  name: string;
  run(context: Context): Promise<void>;
  /** Undoes the step; must be idempotent and safe when the step only half ran. */
  compensate?(context: Context): Promise<void>;
}

export type SagaEvent =
  | { type: 'step-started'; step: string }
  | { type: 'step-succeeded'; step: string; durationMs: number }
  | { type: 'step-failed'; step: string; durationMs: number; error: string }
  | { type: 'compensated'; step: string }
  | { type: 'compensation-failed'; step: string; error: string };

export class SagaFailedError extends FleetError {
  readonly failedStep: string;
  readonly compensationErrors: string[];
  constructor(failedStep: string, cause: unknown, compensationErrors: string[]) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const leftovers = compensationErrors.length
      ? `; rollback incomplete: ${compensationErrors.join('; ')}`
      : '; everything done before it was rolled back';
    const code = cause instanceof FleetError ? cause.code : 'internal';
    super(code, `step "${failedStep}" failed: ${reason}${leftovers}`, { cause, retryable: false });
    this.failedStep = failedStep;
    this.compensationErrors = compensationErrors;
  }
}

/**
 * Runs steps in order; on the first failure compensates that step and every completed one in reverse,
 * then throws a SagaFailedError naming the failed step.
 */
export async function runSaga<Context>(
  steps: readonly SagaStep<Context>[],
  context: Context,
  onEvent: (event: SagaEvent) => void = () => undefined,
  now: () => number = () => performance.now(),
): Promise<void> {
  const started: SagaStep<Context>[] = [];
  for (const step of steps) {
    const begin = now();
    onEvent({ type: 'step-started', step: step.name });
    started.push(step);
    try {
      await step.run(context);
      onEvent({ type: 'step-succeeded', step: step.name, durationMs: now() - begin });
    } catch (error) {
      onEvent({ type: 'step-failed', step: step.name, durationMs: now() - begin, error: String((error as Error).message ?? error) });
      const compensationErrors: string[] = [];
      for (const done of [...started].reverse()) {
        if (!done.compensate) continue;
        try {
          await done.compensate(context);
          onEvent({ type: 'compensated', step: done.name });
        } catch (compensationError) {
          const message = `${done.name}: ${(compensationError as Error).message}`;
          compensationErrors.push(message);
          onEvent({ type: 'compensation-failed', step: done.name, error: message });
        }
      }
      throw new SagaFailedError(step.name, error, compensationErrors);
    }
  }
}
