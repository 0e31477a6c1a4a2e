import type { Logger } from '@agent-fleet/kernel/logger';
import type { Clock } from '../../ports/clock.ts';
import type { MonitoringPipelineProbe } from '../../ports/onboarding-probes.ts';
import type { Registry } from '../../ports/registry.ts';
import { assessPipeline, PIPELINE_COMPONENTS, WATCHDOG_STALE_AFTER_MS, type PipelineVerdict } from './monitoring-pipeline.ts';

/** Ops-log actions of the watch: written when the pipeline breaks, changes how it is broken, or recovers. */
export const MONITORING_ACTIONS = {
  broken: 'monitoring-pipeline-broken',
  restored: 'monitoring-pipeline-restored',
} as const;

export const MONITORING_WATCH_INTERVAL_MS = 60_000;
const REASON_LIMIT = 1000;

export interface MonitoringWatchDependencies {
  probe: MonitoringPipelineProbe;
  registry: Pick<Registry, 'appendOpsLog'>;
  clock: Clock;
  logger: Logger;
  staleAfterMs?: number;
}

/**
 * The watcher of the watchers: the orchestrator, outside Prometheus and Alertmanager, checks that the
 * always-firing Watchdog is evaluated by Prometheus and held, fresh, by the Alertmanager it sends to. A
 * stopped Prometheus, a stopped Alertmanager or a broken route between them silences every alert of the
 * fleet; here it becomes an ops-log entry, an error in the log, `fleet_monitoring_pipeline_up` and a
 * failed `anomaly-alerts` item in `fleet doctor`.
 */
export class MonitoringWatch {
  private readonly deps: MonitoringWatchDependencies;
  private last: PipelineVerdict | null = null;
  /** What the ops log last said (components down), so a lasting outage is written once. */
  private logged: string | null = null;
  private running: Promise<PipelineVerdict> | null = null;

  constructor(deps: MonitoringWatchDependencies) {
    this.deps = deps;
  }

  /** The last verdict; null before the first check. */
  latest(): PipelineVerdict | null {
    return this.last;
  }

  /** One check now (concurrent callers share it); a change of state is ops-logged. */
  check(): Promise<PipelineVerdict> {
    this.running ??= this.checkOnce().finally(() => (this.running = null));
    return this.running;
  }

  /** Checks at once and then every `intervalMs`; returns the stop. The timer never keeps the process up. */
  start(intervalMs: number = MONITORING_WATCH_INTERVAL_MS): () => void {
    const tick = (): void => {
      this.check().catch((error: unknown) => this.deps.logger.error('monitoring watch failed', { error }));
    };
    tick();
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async checkOnce(): Promise<PipelineVerdict> {
    const state = await this.deps.probe.pipeline();
    const verdict = assessPipeline(state, this.deps.clock.now(), this.deps.staleAfterMs ?? WATCHDOG_STALE_AFTER_MS);
    this.last = verdict;
    await this.record(verdict);
    return verdict;
  }

  private async record(verdict: PipelineVerdict): Promise<void> {
    const down = PIPELINE_COMPONENTS.filter((component) => !verdict.up[component]);
    const key = verdict.ok ? 'ok' : `broken:${down.join(',')}`;
    // A healthy first look is not news; a broken one is, at every start.
    if (key === this.logged || (this.logged === null && verdict.ok)) {
      this.logged = key;
      return;
    }
    const reason = verdict.ok
      ? `alerts reach Alertmanager again: ${verdict.evidence.join('; ')}`
      : verdict.problems.join('; ');
    if (verdict.ok) this.deps.logger.info('alerting pipeline restored', { prometheus: this.deps.probe.url });
    else
      this.deps.logger.error('alerting pipeline broken: fleet alerts cannot reach anyone', {
        prometheus: this.deps.probe.url,
        down,
        problems: verdict.problems,
      });
    await this.deps.registry.appendOpsLog({
      actor: 'monitoring-watch',
      action: verdict.ok ? MONITORING_ACTIONS.restored : MONITORING_ACTIONS.broken,
      clientId: null,
      reason: reason.slice(0, REASON_LIMIT),
      outcome: verdict.ok ? 'success' : 'failure',
      details: { prometheus: this.deps.probe.url, down, problems: verdict.problems },
    });
    this.logged = key;
  }
}
