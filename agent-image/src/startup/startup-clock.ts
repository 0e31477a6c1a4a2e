import { performance } from 'node:perf_hooks';

/**
 * Where the agent's start went, in milliseconds. `runtimeStartMs`: Node's own bootstrap (from the process's
 * time origin). `moduleLoadMs`: loading, compiling and evaluating the modules `main` imports statically,
 * plus the wait for the runtime's modules (startup/compose-agent.ts) after the TLS step (`composeLoadMs`;
 * near zero when they loaded while the TLS identity was redeemed at Vault). `configAndTlsMs`: the
 * environment, the client's config and the TLS identity (its directory, or the handover in the volume
 * redeemed at Vault). `listenMs`: building the runtime and both servers until they listen; /healthz answers
 * from `totalMs` after the time origin. The volume's stores open later, at the introduction.
 */
export interface StartupTimings {
  runtimeStartMs: number;
  moduleLoadMs: number;
  composeLoadMs: number;
  configAndTlsMs: number;
  listenMs: number;
  totalMs: number;
}

type Phase = 'configAndTls' | 'composeLoad' | 'listen';

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

  /** Records the end of `phase` (in order: configAndTls, composeLoad, listen). */
  end(phase: Phase): void {
    this.ended.set(phase, this.now());
  }

  timings(): StartupTimings {
    const round = (value: number) => Math.round(value * 10) / 10;
    const configured = this.ended.get('configAndTls') ?? this.mainStarted;
    const loaded = this.ended.get('composeLoad') ?? configured;
    const listening = this.ended.get('listen') ?? loaded;
    return {
      runtimeStartMs: round(this.bootstrapped),
      moduleLoadMs: round(this.mainStarted - this.bootstrapped + (loaded - configured)),
      composeLoadMs: round(loaded - configured),
      configAndTlsMs: round(configured - this.mainStarted),
      listenMs: round(listening - loaded),
      totalMs: round(listening),
    };
  }
}
