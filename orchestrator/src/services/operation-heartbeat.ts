import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../ports/clock.ts';
import type { Registry } from '../ports/registry.ts';

/** An operation on a client (a provisioning that crashed, say) is taken over once its heartbeat is this old. */
export const STALE_OPERATION_MS = 5 * 60_000;

export interface OperationHeartbeatDependencies {
  registry: Pick<Registry, 'recordProgress'>;
  clock: Clock;
  logger: Logger;
  /** How often the operation refreshes its heartbeat, in ms. Default: a fifth of STALE_OPERATION_MS. */
  heartbeatIntervalMs?: number | undefined;
}

/**
 * Runs `work` while the operation that claimed the client (`Registry.claim`) keeps its heartbeat fresh, as
 * provisioning does: an operation that outlasts the take-over age (a slow health check, a large backup) is
 * not taken for abandoned and taken over by a provisioning, an erasure or a deprovision while it runs.
 * A heartbeat that cannot be written is only logged; none is left in flight once `work` has ended. `step`
 * may be read at each beat (the step a saga is at).
 */
export async function withOperationHeartbeat<T>(
  deps: OperationHeartbeatDependencies,
  claim: { clientId: ClientId; operationId: string; step: string | (() => string) },
  work: () => Promise<T>,
): Promise<T> {
  const { registry, clock, logger } = deps;
  let writes = Promise.resolve();
  let failure: unknown;
  const beat = () => {
    const at = clock.now();
    const step = typeof claim.step === 'string' ? claim.step : claim.step();
    writes = writes
      .then(() => registry.recordProgress(claim.clientId, claim.operationId, step, at))
      .catch((error: unknown) => void (failure ??= error));
  };
  const timer = setInterval(beat, deps.heartbeatIntervalMs ?? STALE_OPERATION_MS / 5);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    await writes;
    if (failure !== undefined) logger.warn('could not refresh the operation heartbeat', { client: claim.clientId, op: claim.operationId, error: failure });
  }
}
