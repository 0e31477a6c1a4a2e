import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { HttpAgentControl } from './adapters/http/http-agent-control.ts';
import { HttpAgentHealthProbe } from './adapters/http/http-agent-health-probe.ts';
import { DockerContainerRuntime } from './adapters/docker/docker-container-runtime.ts';
import type { CommandRunner } from './adapters/kubernetes/command-runner.ts';
import { kubernetesRuntimeFromConfig } from './adapters/kubernetes/kubernetes-runtime-from-config.ts';
import { FileSdScrapeTargets } from './adapters/prometheus/file-sd-scrape-targets.ts';
import { openRegistry } from './adapters/sql/open-registry.ts';
import { openSecretBackend, type SecretBackend } from './adapters/vault/open-secret-backend.ts';
import type { OrchestratorConfig } from './config.ts';
import { gatewayOf, parseIpv4Cidr } from './domain/ipv4-cidr.ts';
import { createOrchestratorMetrics } from './observability/metrics.ts';
import type { AgentControl } from './ports/agent-control.ts';
import type { AgentHealthProbe } from './ports/agent-health.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { ClientRecord, Registry } from './ports/registry.ts';
import type { ScrapeTargets } from './ports/scrape-targets.ts';
import { AgentProxyService } from './services/agent-proxy.ts';
import { ClientSecretsService } from './services/client-secrets.ts';
import { DeprovisionClientService } from './services/deprovision-client.ts';
import { enforceRetention } from './services/enforce-retention.ts';
import { introduceAgent } from './services/introduce-agent.ts';
import { KillClientService } from './services/kill-client.ts';
import { ProvisionClientService } from './services/provision-client.ts';
import { ReconcileFleetService } from './services/reconcile-fleet.ts';
import { ReviveClientService } from './services/revive-client.ts';
import { SupportAccessService } from './services/support-access.ts';
import { RotateCredentialsService } from './services/rotate-credentials.ts';

/** Everything the API, the CLI and the tests call: adapters wired into services. */
export interface Orchestrator {
  config: Readonly<OrchestratorConfig>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  control: AgentControl;
  secretBackend: SecretBackend;
  provision: ProvisionClientService;
  deprovision: DeprovisionClientService;
  reconcile: ReconcileFleetService;
  kill: KillClientService;
  revive: ReviveClientService;
  rotate: RotateCredentialsService;
  secrets: ClientSecretsService;
  agents: AgentProxyService;
  /** Per-incident, client-approved, time-limited access of the team to a client's data. */
  support: SupportAccessService;
  /** Deletes the data of clients closed longer ago than the retention period; returns their ids. */
  enforceRetention(): Promise<string[]>;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

/** Parts given from outside are used as they are and never closed by this orchestrator. */
export interface OrchestratorOverrides {
  registry?: Registry;
  runtime?: ContainerRuntime;
  secretBackend?: SecretBackend;
  clock?: Clock;
  /** Runs helm and kubectl for FLEET_RUNTIME=kubernetes (tests record the command lines instead). */
  commandRunner?: CommandRunner;
  /** How the orchestrator reaches agents' control APIs (tests observe the addresses asked for). */
  control?: AgentControl;
  health?: AgentHealthProbe;
}

const LIVE_STATUSES = new Set<ClientRecord['status']>(['active', 'killed', 'provisioning']);

/** The one runtime this orchestrator runs agents on (FLEET_RUNTIME). */
async function openContainerRuntime(
  config: Readonly<OrchestratorConfig>,
  registry: Registry,
  logger: Logger,
  commandRunner: CommandRunner | undefined,
): Promise<ContainerRuntime> {
  if (config.runtime === 'kubernetes') return kubernetesRuntimeFromConfig(config, logger, commandRunner);
  return new DockerContainerRuntime({ socketPath: config.dockerSocket, fleetId: await registry.fleetId() });
}

export async function createOrchestrator(
  config: Readonly<OrchestratorConfig>,
  logger: Logger,
  overrides: OrchestratorOverrides = {},
): Promise<Orchestrator> {
  const clock = overrides.clock ?? systemClock;
  const registry = overrides.registry ?? (await openRegistry({ databaseUrl: config.databaseUrl, homeDir: config.homeDir }));
  const runtime = overrides.runtime ?? (await openContainerRuntime(config, registry, logger, overrides.commandRunner));
  // On Kubernetes Prometheus finds agents through their ServiceMonitor or scrape annotations; the file
  // still records each agent's Service address, so status and reconcile work the same on both runtimes.
  const targets = new FileSdScrapeTargets(config.targetsFile);
  const health = overrides.health ?? new HttpAgentHealthProbe();
  const control = overrides.control ?? new HttpAgentControl();
  const secretBackend = overrides.secretBackend ?? (await openSecretBackend(config, logger));
  const secrets = secretBackend.store;

  const vaultAddressFor = async (clientId: ClientId): Promise<string> => {
    const subnet = (await registry.getClient(clientId))?.subnet;
    if (!subnet) throw new FleetError('conflict', `${clientId} has no network`);
    return secretBackend.vaultAddressForNetwork(clientId, { gateway: gatewayOf(parseIpv4Cidr(subnet)) });
  };
  const introduce = (clientId: ClientId, controlAddress: string) =>
    introduceAgent({ secrets, control, vaultAddressFor, readyTimeoutMs: config.agentReadyTimeoutMs }, clientId, controlAddress);

  // Agents already running (after an orchestrator restart) must reach the embedded store again at once.
  for (const client of await registry.listClients()) {
    if (client.subnet && LIVE_STATUSES.has(client.status)) {
      await vaultAddressFor(client.id).catch((error: unknown) =>
        logger.warn('vault not reachable from a client network', { client: client.id, error }),
      );
    }
  }

  const deprovision = new DeprovisionClientService({
    registry,
    runtime,
    targets,
    clock,
    logger,
    extension: { onPurge: (clientId) => secrets.removeClient(clientId) },
  });

  const metricsRegistry = new MetricsRegistry();
  collectDefaultMetrics({ register: metricsRegistry });
  const metrics = createOrchestratorMetrics(metricsRegistry, () => registry.listClients());

  return {
    config,
    registry,
    runtime,
    targets,
    health,
    control,
    secretBackend,
    metrics: metricsRegistry,
    provision: new ProvisionClientService({
      config,
      registry,
      runtime,
      targets,
      health,
      clock,
      logger,
      metrics,
      secrets: { store: secrets, vaultAddressForNetwork: secretBackend.vaultAddressForNetwork, introduce },
    }),
    deprovision,
    enforceRetention: () => enforceRetention({ registry, deprovision, clock, logger, retentionDays: config.retentionDays }),
    reconcile: new ReconcileFleetService({
      config,
      registry,
      runtime,
      targets,
      health,
      logger,
      metrics,
      afterAgentStart: introduce,
      vaultAddressFor,
    }),
    kill: new KillClientService({ config, registry, runtime, targets, secrets, control, clock, logger }),
    revive: new ReviveClientService({ config, registry, runtime, targets, secrets, control, health, clock, logger, vaultAddressFor, introduce }),
    rotate: new RotateCredentialsService({ registry, runtime, secrets, logger, introduce }),
    secrets: new ClientSecretsService({ registry, secrets }),
    agents: new AgentProxyService({ registry, runtime, secrets, control, clock, logger }),
    support: new SupportAccessService({ registry, clock }),
    async close() {
      if (!overrides.secretBackend) await secretBackend.close();
      if (!overrides.registry) await registry.close();
    },
  };
}
