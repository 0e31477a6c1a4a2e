/** Where a call to an agent stalled: before its answer began, or between two pieces of its body. */
export type AgentStall = 'no-answer' | 'idle-body';

/**
 * The clock of one streamed call: `signal` aborts once the answer has not begun within `answerTimeoutMs`,
 * or once `idleTimeoutMs` pass with no byte moved after it began. Aborting the request's signal destroys
 * its socket, so a call nobody waits on any more does not keep a connection to the agent open.
 */
export class StallGuard {
  readonly #controller = new AbortController();
  readonly #limits: { answerTimeoutMs: number; idleTimeoutMs: number };
  readonly #reason: (stall: AgentStall, afterMs: number) => Error;
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: { answerTimeoutMs: number; idleTimeoutMs: number }, reason: (stall: AgentStall, afterMs: number) => Error) {
    this.#limits = limits;
    this.#reason = reason;
    this.#arm('no-answer', limits.answerTimeoutMs);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The answer began, or a piece of its body moved on: the idle clock starts again. */
  touch(): void {
    if (!this.#controller.signal.aborted) this.#arm('idle-body', this.#limits.idleTimeoutMs);
  }

  /** The call is over: no timer is left behind. */
  finish(): void {
    clearTimeout(this.#timer);
  }

  #arm(stall: AgentStall, afterMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#controller.abort(this.#reason(stall, afterMs)), afterMs);
  }
}
