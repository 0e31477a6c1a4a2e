import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from '@agent-fleet/agent/observability/logger.ts';
import { HttpAgentHealthProbe } from './adapters/http/http-agent-health-probe.ts';
import { DockerContainerRuntime } from './adapters/docker/docker-container-runtime.ts';
import { FileSdScrapeTargets } from './adapters/prometheus/file-sd-scrape-targets.ts';
import { openRegistry } from './adapters/sql/open-registry.ts';
import type { OrchestratorConfig } from './config.ts';
import type { ClientStatus } from './domain/client-status.ts';
import { createOrchestratorMetrics } from './observability/metrics.ts';
import type { AgentHealthProbe } from './ports/agent-health.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { Registry } from './ports/registry.ts';
import type { ScrapeTargets } from './ports/scrape-targets.ts';
import { DeprovisionClientService } from './services/deprovision-client.ts';
import { ProvisionClientService } from './services/provision-client.ts';
import { ReconcileFleetService } from './services/reconcile-fleet.ts';

/** Everything the API, the CLI and the tests call: adapters wired into services. */
export interface Orchestrator {
  config: Readonly<OrchestratorConfig>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  provision: ProvisionClientService;
  deprovision: DeprovisionClientService;
  reconcile: ReconcileFleetService;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

export interface OrchestratorOverrides {
  registry?: Registry;
  runtime?: ContainerRuntime;
  clock?: Clock;
}

export async function createOrchestrator(
  config: Readonly<OrchestratorConfig>,
  logger: Logger,
  overrides: OrchestratorOverrides = {},
): Promise<Orchestrator> {
  const clock = overrides.clock ?? systemClock;
  const registry = overrides.registry ?? (await openRegistry({ databaseUrl: config.databaseUrl, homeDir: config.homeDir }));
  const runtime = overrides.runtime ?? new DockerContainerRuntime({ socketPath: config.dockerSocket });
  const targets = new FileSdScrapeTargets(config.targetsFile);
  const health = new HttpAgentHealthProbe();
  const metricsRegistry = new MetricsRegistry();
  collectDefaultMetrics({ register: metricsRegistry });
  const metrics = createOrchestratorMetrics(metricsRegistry, async () => {
    const counts: Partial<Record<ClientStatus, number>> = {};
    for (const client of await registry.listClients()) counts[client.status] = (counts[client.status] ?? 0) + 1;
    return counts;
  });

  return {
    config,
    registry,
    runtime,
    targets,
    health,
    metrics: metricsRegistry,
    provision: new ProvisionClientService({ config, registry, runtime, targets, health, clock, logger, metrics }),
    deprovision: new DeprovisionClientService({ registry, runtime, targets, clock, logger }),
    reconcile: new ReconcileFleetService({ config, registry, runtime, targets, health, logger, metrics }),
    close: () => registry.close(),
  };
}
