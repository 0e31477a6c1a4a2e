import type http from 'node:http';

/** How long the CLI waits on the orchestrator service in each exchange, and how much of an answer it keeps. */
export interface ExchangeLimits {
  /**
   * From sending a request to the answer's status and headers, connecting included; ms. Default 10 min:
   * the service answers a backup, a restore or a doctor run only once it is done.
   */
  answerTimeoutMs: number;
  /**
   * Longest pause in an answer's body while the CLI is ready for more; ms. Default 60 s. An export or an
   * audit stream runs as long as it keeps sending; time the CLI spends waiting on its own output (a pager)
   * does not count.
   */
  idleTimeoutMs: number;
  /** The whole `GET /healthz` asking whether the service is up; ms. Default 5 s. */
  healthTimeoutMs: number;
  /** Largest answer held in memory (a JSON answer, an error body, one line of a stream); bytes. Default 256 MiB. */
  maxAnswerBytes: number;
}

export const DEFAULT_EXCHANGE_LIMITS: Readonly<ExchangeLimits> = Object.freeze({
  answerTimeoutMs: 10 * 60_000,
  idleTimeoutMs: 60_000,
  healthTimeoutMs: 5_000,
  maxAnswerBytes: 256 * 1024 * 1024,
});

/** Where an exchange stalled: before the answer began, or in the middle of its body. */
export type Stall = { kind: 'no-answer'; afterMs: number } | { kind: 'idle-body'; afterMs: number };

/**
 * The timers of one exchange: the answer deadline runs from the request until its headers, then the idle
 * limit from each piece of the body to the next. When one fires, `onStall` decides the error and the
 * request is destroyed, so the socket is released whatever the caller does next. Pausing for a slow sink
 * (`hold`) stops the idle clock: that wait is the CLI's, not the service's.
 */
export class ExchangeWatch {
  readonly #request: http.ClientRequest;
  readonly #limits: Pick<ExchangeLimits, 'answerTimeoutMs' | 'idleTimeoutMs'>;
  readonly #onStall: (stall: Stall) => Error;
  #timer: NodeJS.Timeout | undefined;
  #finished = false;

  constructor(request: http.ClientRequest, limits: Pick<ExchangeLimits, 'answerTimeoutMs' | 'idleTimeoutMs'>, onStall: (stall: Stall) => Error) {
    this.#request = request;
    this.#limits = limits;
    this.#onStall = onStall;
    this.#arm({ kind: 'no-answer', afterMs: limits.answerTimeoutMs });
    request.once('response', () => this.touch());
    request.once('close', () => this.finish());
  }

  /** A piece of the body arrived (or the headers did): the idle clock starts again. */
  touch(): void {
    if (!this.#finished) this.#arm({ kind: 'idle-body', afterMs: this.#limits.idleTimeoutMs });
  }

  /** The CLI stopped reading to let its sink catch up: the service is not the one waited on. */
  hold(): void {
    clearTimeout(this.#timer);
  }

  /** The exchange is over (answered, failed or abandoned): no timer is left to keep the process alive. */
  finish(): void {
    this.#finished = true;
    clearTimeout(this.#timer);
  }

  #arm(stall: Stall): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.finish();
      this.#request.destroy(this.#onStall(stall));
    }, stall.afterMs);
  }
}
