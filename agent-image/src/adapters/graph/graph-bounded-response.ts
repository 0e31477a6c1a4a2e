import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { readAtMost } from '@agent-fleet/kernel/bounded-body';
import { GraphAnswerTooLargeError, graphCallScope } from './graph-call-scope.ts';

/** How long one Graph exchange may take, headers and body, unless configured: a stalled answer ends. */
export const GRAPH_TIMEOUT_MS = 30_000;

const NO_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Makes the signal that ends one exchange once its `timeoutMs` has passed. */
export type DeadlineSignal = (timeoutMs: number) => AbortSignal;

/**
 * Bounds every Graph answer in time (the whole exchange, body included: a server that stalls or drips
 * its body would otherwise hold the mail loop) and, where the call asks for it, in size: the body is
 * read up to the call's limit and no further, so a message too large for the agent's memory is refused
 * before it is downloaded, as a GraphAnswerTooLargeError in the call scope.
 */
export class BoundedResponseMiddleware implements Middleware {
  readonly #timeoutMs: number;
  readonly #deadlineSignal: DeadlineSignal;
  #next: Middleware | null = null;

  /** `deadlineSignal` is for tests, which end an exchange at its deadline themselves. */
  constructor(timeoutMs: number = GRAPH_TIMEOUT_MS, deadlineSignal: DeadlineSignal = (ms) => AbortSignal.timeout(ms)) {
    this.#timeoutMs = timeoutMs;
    this.#deadlineSignal = deadlineSignal;
  }

  setNext(next: Middleware): void {
    this.#next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.#next;
    if (next === null) throw new FleetError('internal', 'graph middleware chain has no transport');
    context.options ??= {};
    const timeout = this.#deadlineSignal(this.#timeoutMs);
    context.options.signal = context.options.signal ? AbortSignal.any([context.options.signal, timeout]) : timeout;
    await next.execute(context);
    const scope = graphCallScope.getStore();
    const limit = scope?.maxResponseBytes ?? null;
    const response = context.response;
    if (limit === null || response === undefined || response.body === null) return;
    const body = await readAtMost(response, limit);
    if (body === null) {
      const error = new GraphAnswerTooLargeError(limit);
      if (scope !== undefined) scope.error = error;
      throw error;
    }
    context.response = new Response(NO_BODY_STATUSES.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}
