import { Counter, type Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '@agent-fleet/kernel/logger';
import { createEgressProxies, type EgressProxies } from './adapters/egress-proxy/egress-proxies.ts';
import type { EgressRefusalLog } from './adapters/egress-proxy/egress-refusal-log.ts';
import type { OrchestratorConfig } from './config.ts';
import { createEgressMetrics } from './observability/metrics.ts';
import type { Registry } from './ports/registry.ts';

/**
 * The allow-listing egress proxies of Docker agents on internal networks; null when agents' networks are
 * open or agents run on Kubernetes (where the fleet-agent chart's egress policy is the control).
 */
export function composeEgress(deps: {
  config: Readonly<Pick<OrchestratorConfig, 'runtime' | 'egress'>>;
  registry: Registry;
  metrics: MetricsRegistry;
  logger: Logger;
  /** The refusal log (`config.egress.refusalLogFile`), shared with the erasure, which forgets a client's lines. */
  refusals: EgressRefusalLog;
}): EgressProxies | null {
  const { config, registry, logger } = deps;
  if (config.runtime !== 'docker' || config.egress.mode !== 'proxy') return null;
  const counters = createEgressMetrics(deps.metrics);
  const decisionErrors = egressDecisionErrors(deps.metrics);
  return createEgressProxies({
    port: config.egress.proxyPort,
    extraRules: config.egress.extraRules,
    lookupClient: (clientId) => registry.getClient(clientId),
    refusals: deps.refusals,
    metrics: {
      serving: (client) => {
        counters.refused.inc({ client }, 0);
        counters.tunnels.inc({ client }, 0);
        counters.upstreamFailures.inc({ client }, 0);
      },
      refused: (client) => counters.refused.inc({ client }),
      tunnelled: (client) => counters.tunnels.inc({ client }),
      upstreamFailed: (client) => counters.upstreamFailures.inc({ client }),
      decisionFailed: () => decisionErrors.inc(),
    },
    logger,
  });
}

const DECISION_ERRORS = 'fleet_egress_decision_errors_total';

/**
 * Requests the egress proxies refused because they could not decide them (the registry failed or hung).
 * Fleet-wide, no client label: the cause is the proxy's, the client is in the log line, and a per-client
 * series would have to be forgotten at an erasure with the other egress counters.
 */
function egressDecisionErrors(registry: MetricsRegistry): Counter {
  const counter =
    (registry.getSingleMetric(DECISION_ERRORS) as Counter | undefined) ??
    new Counter({ name: DECISION_ERRORS, help: 'Egress requests refused (500) because the proxy could not decide them: the registry failed or did not answer in time.', registers: [registry] });
  // A series from the start, so that the first failure is an increase.
  counter.inc(0);
  return counter;
}
