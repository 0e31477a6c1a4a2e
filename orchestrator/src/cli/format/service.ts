import type { PipelineVerdict } from '../../services/doctor/monitoring-pipeline.ts';

/** `fleet service start|status`. */
export function formatServiceState(running: boolean, socketPath?: string): string {
  if (!running) return 'orchestrator not running';
  return socketPath === undefined ? 'orchestrator running' : `orchestrator running (socket ${socketPath})`;
}

/** The alerting pipeline's line(s) under `fleet service status`: whether an anomaly would reach anyone. */
export function formatMonitoring(verdict: PipelineVerdict | null): string {
  if (verdict === null) return 'monitoring: not checked (no FLEET_PROMETHEUS_URL, or the first check has not run yet)';
  if (verdict.ok) return `monitoring: alerts reach Alertmanager (checked ${verdict.checkedAt})`;
  return [`monitoring: BROKEN, alerts may reach nobody (checked ${verdict.checkedAt})`, ...verdict.problems.map((problem) => `  - ${problem}`)].join('\n');
}
