import { performance } from 'node:perf_hooks';

/**
 * Where the agent's start went, in milliseconds, in the order it happens. `runtimeStartMs`: Node's own
 * bootstrap (from the process's time origin). `moduleLoadMs`: loading, compiling and evaluating the
 * modules `main` imports statically. `configAndTlsMs`: the environment, the client's config and the TLS
 * identity (its directory, or the handover in the volume redeemed at Vault). `listenMs`: until the control
 * server listens; /healthz answers from `healthzMs` after the time origin. Then, with /healthz already
 * answering: `runtimeLoadMs` loads the runtime's modules (startup/compose-agent.ts), `composeMs` builds the
 * runtime, the control app and the metrics exporter; every route serves from `composedMs`. The volume's
 * stores open later, at the introduction.
 */
export interface StartupTimings {
  runtimeStartMs: number;
  moduleLoadMs: number;
  configAndTlsMs: number;
  listenMs: number;
  healthzMs: number;
  runtimeLoadMs: number;
  composeMs: number;
  composedMs: number;
}

type Phase = 'configAndTls' | 'listen' | 'runtimeLoad' | 'compose';

/** Marks the phases of one start; made first thing in `main`, when its static imports are loaded. */
export class StartupClock {
  private readonly now: () => number;
  private readonly bootstrapped: number;
  private readonly mainStarted: number;
  private readonly ended = new Map<Phase, number>();

  constructor(now: () => number = () => performance.now(), bootstrapped: number = performance.nodeTiming.bootstrapComplete) {
    this.now = now;
    this.bootstrapped = bootstrapped;
    this.mainStarted = now();
  }

  /** Records the end of `phase` (in order: configAndTls, listen, runtimeLoad, compose). */
  end(phase: Phase): void {
    this.ended.set(phase, this.now());
  }

  timings(): StartupTimings {
    const round = (value: number) => Math.round(value * 10) / 10;
    const configured = this.ended.get('configAndTls') ?? this.mainStarted;
    const listening = this.ended.get('listen') ?? configured;
    const loaded = this.ended.get('runtimeLoad') ?? listening;
    const composed = this.ended.get('compose') ?? loaded;
    return {
      runtimeStartMs: round(this.bootstrapped),
      moduleLoadMs: round(this.mainStarted - this.bootstrapped),
      configAndTlsMs: round(configured - this.mainStarted),
      listenMs: round(listening - configured),
      healthzMs: round(listening),
      runtimeLoadMs: round(loaded - listening),
      composeMs: round(composed - loaded),
      composedMs: round(composed),
    };
  }
}
