import { AsyncLocalStorage } from 'node:async_hooks';
import { FleetError } from '@agent-fleet/kernel/fleet-error';

/**
 * What one Graph call tells the middlewares, and what they hand back. The Graph SDK wraps anything a
 * middleware throws into a GraphError and drops the original, which would turn a typed `invalid_grant`
 * or a refused answer into "no answer": a middleware parks its error in `error`, where callGraphApi
 * finds it. `maxResponseBytes` bounds the answer the call may download (null: the default).
 */
export interface GraphCallScope {
  error: unknown;
  maxResponseBytes: number | null;
}

export const graphCallScope = new AsyncLocalStorage<GraphCallScope>();

/** A Graph answer larger than its call allows; it was not downloaded past the limit. */
export class GraphAnswerTooLargeError extends FleetError {
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    super('invalid_input', `graph answer larger than the ${(limitBytes / 1048576).toFixed(0)} MB the agent reads`);
    this.limitBytes = limitBytes;
  }
}
