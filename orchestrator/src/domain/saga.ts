import { FleetError } from '@agent-fleet/kernel/fleet-error';

/** One idempotent step of a multi-step operation, with the compensation that undoes it. */
export interface SagaStep<Context> {
  name: string;
  run(context: Context): Promise<void>;
  /** Undoes the step; must be idempotent and safe when the step only half ran. */
  compensate?(context: Context): Promise<void>;
}

/** Steps that need nothing from one another, run at once; the saga goes on when every one has ended. */
export interface SagaParallelSteps<Context> {
  parallel: readonly SagaStep<Context>[];
}

export type SagaEntry<Context> = SagaStep<Context> | SagaParallelSteps<Context>;

export type SagaEvent =
  | { type: 'step-started'; step: string }
  | { type: 'step-succeeded'; step: string; durationMs: number }
  | { type: 'step-failed'; step: string; durationMs: number; error: string }
  | { type: 'compensated'; step: string }
  | { type: 'compensation-failed'; step: string; error: string };

export class SagaFailedError extends FleetError {
  readonly failedStep: string;
  readonly compensationErrors: string[];
  /** `alsoFailed`: the other steps of a parallel group that failed too, as "name: message". */
  constructor(failedStep: string, cause: unknown, compensationErrors: string[], alsoFailed: readonly string[] = []) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const others = alsoFailed.length ? ` (also failed: ${alsoFailed.join('; ')})` : '';
    const leftovers = compensationErrors.length
      ? `; rollback incomplete: ${compensationErrors.join('; ')}`
      : '; everything done before it was rolled back';
    const code = cause instanceof FleetError ? cause.code : 'internal';
    super(code, `step "${failedStep}" failed: ${reason}${others}${leftovers}`, { cause, retryable: false });
    this.failedStep = failedStep;
    this.compensationErrors = compensationErrors;
  }
}

/** The steps of an entry, in their declared order. */
export function sagaStepsOf<Context>(entry: SagaEntry<Context>): readonly SagaStep<Context>[] {
  return 'parallel' in entry ? entry.parallel : [entry];
}

const messageOf = (error: unknown) => String((error as Error)?.message ?? error);

type Outcome = { ok: true; durationMs: number } | { ok: false; durationMs: number; error: unknown };

/**
 * Runs the entries in order, the steps of a parallel group at once. On the first failure (once every step
 * of its group has ended) compensates each step that started, the failed ones included, in reverse
 * declared order, then throws a SagaFailedError naming the failed step (the first declared, in a group).
 * Events of a group's steps are reported when the group ends, in declared order, each with its own duration.
 */
export async function runSaga<Context>(
  entries: readonly SagaEntry<Context>[],
  context: Context,
  onEvent: (event: SagaEvent) => void = () => undefined,
  now: () => number = () => performance.now(),
): Promise<void> {
  const started: SagaStep<Context>[] = [];
  for (const entry of entries) {
    const steps = sagaStepsOf(entry);
    const runs = steps.map(async (step): Promise<Outcome> => {
      const begin = now();
      onEvent({ type: 'step-started', step: step.name });
      started.push(step);
      try {
        await step.run(context);
        return { ok: true, durationMs: now() - begin };
      } catch (error) {
        return { ok: false, durationMs: now() - begin, error };
      }
    });
    const outcomes = await Promise.all(runs);
    const failed: Array<{ step: string; error: unknown }> = [];
    outcomes.forEach((outcome, index) => {
      const step = steps[index]!.name;
      if (outcome.ok) onEvent({ type: 'step-succeeded', step, durationMs: outcome.durationMs });
      else {
        onEvent({ type: 'step-failed', step, durationMs: outcome.durationMs, error: messageOf(outcome.error) });
        failed.push({ step, error: outcome.error });
      }
    });
    const [first, ...others] = failed;
    if (!first) continue;
    const compensationErrors = await compensate(started, context, onEvent);
    const alsoFailed = others.map((other) => `${other.step}: ${messageOf(other.error)}`);
    throw new SagaFailedError(first.step, first.error, compensationErrors, alsoFailed);
  }
}

/** Undoes `started` in reverse; a compensation that fails is reported and does not stop the others. */
async function compensate<Context>(
  started: readonly SagaStep<Context>[],
  context: Context,
  onEvent: (event: SagaEvent) => void,
): Promise<string[]> {
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
  return compensationErrors;
}
