import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type { MetricsHistory } from '../../ports/metrics-history.ts';
import type { ErasureStep } from './deletion-certificate.ts';

export interface MetricsHistoryDeletion {
  /** Prometheus's stored series of the client; absent when no Prometheus is configured. */
  metricsHistory?: MetricsHistory | undefined;
  /** The orchestrator's own per-client series that outlive the registry row: dropped first, or a scrape writes the client back. */
  ownMetrics?: { forgetClient(clientId: ClientId): void } | undefined;
  logger: Logger;
}

/**
 * The client's time series: their `client` label ties its mail activity (sent, drafted, refused, when) to
 * it, so a client's deletion (an erasure, or a purge at the end of the retention period) removes them too.
 * Run after the registry row is gone: until then the orchestrator's own gauges still carry the label.
 * Never skipped in silence: without a configured Prometheus, or when the deletion fails, the step says so.
 * `onDeleting` runs just before the deletion starts (the erasure hides its own gauge of the client then).
 */
export async function forgetMetricsHistory(deps: MetricsHistoryDeletion, clientId: ClientId, onDeleting: () => void = () => undefined): Promise<ErasureStep> {
  const history = deps.metricsHistory;
  if (history === undefined) {
    return {
      what: 'metrics-history',
      outcome: 'not-configured',
      detail: `no Prometheus is configured (FLEET_PROMETHEUS_URL): a Prometheus that scraped the agent keeps its series labelled client="${clientId}" until its own retention drops them; delete them there with the admin API (delete_series, match[]={client="${clientId}"})`,
    };
  }
  onDeleting();
  deps.ownMetrics?.forgetClient(clientId);
  const result = await history.forgetClient(clientId);
  if (result.outcome === 'failed') deps.logger.error('metrics history of a deleted client not deleted', { client: clientId, detail: result.detail });
  return { what: 'metrics-history', outcome: result.outcome, detail: result.detail };
}
