import type { MonitoringPipelineState } from '../../ports/onboarding-probes.ts';

/** The parts of the alerting pipeline the orchestrator watches from outside. */
export const PIPELINE_COMPONENTS = ['prometheus', 'alertmanager', 'route'] as const;
export type PipelineComponent = (typeof PIPELINE_COMPONENTS)[number];

/** One look at the alerting pipeline: whether an alert raised now would reach Alertmanager's receivers. */
export interface PipelineVerdict {
  checkedAt: string;
  /** No problem at all. */
  ok: boolean;
  /**
   * prometheus: answers, evaluates its rules (Watchdog firing, no rule failing); alertmanager: one it
   * sends to answers; route: one it sends to holds a fresh, unsilenced Watchdog (alerts get through).
   */
  up: Record<PipelineComponent, boolean>;
  /** What is wrong, one sentence each, for ops. */
  problems: string[];
  /** What was seen working. */
  evidence: string[];
}

/**
 * Prometheus resends a firing alert every minute and Alertmanager resolves it 4 evaluation or resend
 * intervals after the last one, so a Watchdog not received for 5 minutes means delivery stopped.
 */
export const WATCHDOG_STALE_AFTER_MS = 5 * 60_000;
const LISTED = 5;

const minutes = (ms: number): string => `${Math.max(0, Math.round(ms / 60_000))} min`;

/** Judges what Prometheus and its Alertmanagers answered. Pure. */
export function assessPipeline(
  state: MonitoringPipelineState,
  now: Date,
  staleAfterMs: number = WATCHDOG_STALE_AFTER_MS,
): PipelineVerdict {
  const checkedAt = now.toISOString();
  const { prometheus } = state;
  if (prometheus.error !== null || !('alertmanagers' in state))
    return {
      checkedAt,
      ok: false,
      up: { prometheus: false, alertmanager: false, route: false },
      problems: [`${prometheus.error ?? 'Prometheus did not answer'}: no alert of the fleet is evaluated or sent`],
      evidence: [],
    };
  const problems: string[] = [];
  const evidence: string[] = [];
  let prometheusUp = true;
  if (prometheus.watchdogFiring) evidence.push(`Prometheus at ${prometheus.url} fires Watchdog`);
  else {
    prometheusUp = false;
    problems.push(
      `Prometheus at ${prometheus.url} is not firing Watchdog: its alert rules are not loaded or not evaluated (deploy/prometheus/rules/monitoring.yml)`,
    );
  }
  if (prometheus.brokenRules.length > 0) {
    prometheusUp = false;
    const listed = prometheus.brokenRules
      .slice(0, LISTED)
      .map((rule) => `${rule.name}${rule.error ? ` (${rule.error.slice(0, 200)})` : ''}`);
    const more = prometheus.brokenRules.length - listed.length;
    problems.push(
      `alert rules failing to evaluate, which can never fire: ${listed.join('; ')}${more > 0 ? ` and ${more} more` : ''}`,
    );
  }
  if (state.alertmanagers.length === 0)
    problems.push(`Prometheus at ${prometheus.url} sends to no Alertmanager: alerts reach nobody`);
  let answered = false;
  let delivered = false;
  for (const alertmanager of state.alertmanagers) {
    if (alertmanager.error !== null) {
      problems.push(`Alertmanager ${alertmanager.url}, where Prometheus sends alerts: ${alertmanager.error}`);
      continue;
    }
    answered = true;
    const watchdog = alertmanager.watchdog;
    if (watchdog === null) {
      problems.push(
        `Alertmanager ${alertmanager.url} holds no Watchdog: alerts from Prometheus do not reach it`,
      );
      continue;
    }
    const age = now.getTime() - Date.parse(watchdog.updatedAt);
    const ended = Date.parse(watchdog.endsAt) <= now.getTime();
    if (!(age <= staleAfterMs) || ended) {
      problems.push(
        `Alertmanager ${alertmanager.url} last received Watchdog ${Number.isFinite(age) ? `${minutes(age)} ago` : 'at an unknown time'}: Prometheus stopped delivering alerts to it`,
      );
      continue;
    }
    if (watchdog.state !== 'active') {
      const silences = watchdog.silencedBy.length > 0 ? ` by silence ${watchdog.silencedBy.join(', ')}` : '';
      problems.push(
        `Watchdog is ${watchdog.state}${silences} in Alertmanager ${alertmanager.url}: the dead man's switch stops hearing it and pages`,
      );
      continue;
    }
    delivered = true;
    evidence.push(
      `Alertmanager ${alertmanager.url} received Watchdog ${minutes(age)} ago, routed to ${watchdog.receivers.join(', ') || 'no receiver'}`,
    );
  }
  return {
    checkedAt,
    ok: problems.length === 0,
    up: { prometheus: prometheusUp, alertmanager: answered, route: delivered },
    problems,
    evidence,
  };
}
