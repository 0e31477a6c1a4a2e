import { Gauge, type Registry as MetricsRegistry } from 'prom-client';
import { PIPELINE_COMPONENTS, type PipelineVerdict } from '../services/doctor/monitoring-pipeline.ts';

/**
 * The monitoring watch's last verdict, for whatever scrapes the orchestrator besides the fleet's own
 * Prometheus (which cannot report itself stopped): one series per pipeline component (fixed set), and
 * when it was last checked. No series before the first check.
 */
export function createMonitoringMetrics(registry: MetricsRegistry, latest: () => PipelineVerdict | null): void {
  new Gauge({
    name: 'fleet_monitoring_pipeline_up',
    help: 'The orchestrator\'s last outside check of the alerting pipeline: 1 when the component works (prometheus: evaluates its rules; alertmanager: answers; route: holds a fresh Watchdog), 0 when not.',
    labelNames: ['component'],
    registers: [registry],
    collect() {
      this.reset();
      const verdict = latest();
      if (verdict === null) return;
      for (const component of PIPELINE_COMPONENTS) this.set({ component }, verdict.up[component] ? 1 : 0);
    },
  });
  new Gauge({
    name: 'fleet_monitoring_pipeline_checked_timestamp_seconds',
    help: 'Unix time of the orchestrator\'s last outside check of the alerting pipeline.',
    registers: [registry],
    collect() {
      this.reset();
      const verdict = latest();
      if (verdict !== null) this.set(Math.floor(Date.parse(verdict.checkedAt) / 1000));
    },
  });
}
