import type { Registry as MetricsRegistry } from 'prom-client';
import { DockerAgentIsolation } from './adapters/docker/docker-agent-isolation.ts';
import { composeHostFirewall } from './compose-host-firewall.ts';
import { PrometheusAlertingProbe } from './adapters/prometheus/prometheus-alerting-probe.ts';
import { adminVaultClient } from './adapters/vault/admin-vault-client.ts';
import type { SecretBackend } from './adapters/vault/open-secret-backend.ts';
import { VaultGrantScopes } from './adapters/vault/vault-grant-scopes.ts';
import type { OrchestratorConfig } from './config.ts';
import type { OnboardingReport } from './domain/onboarding-checklist.ts';
import { createMonitoringMetrics } from './observability/monitoring-metrics.ts';
import { createOnboardingMetrics } from './observability/onboarding-metrics.ts';
import type { AgentControl } from './ports/agent-control.ts';
import type { Clock } from './ports/clock.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { OnboardingCheckStore } from './ports/onboarding-probes.ts';
import type { PortalStore } from './ports/portal-store.ts';
import type { Registry } from './ports/registry.ts';
import { createLogger, type Logger } from '@agent-fleet/kernel/logger';
import type { AgentProxyService } from './services/agent-proxy.ts';
import { MonitoringWatch } from './services/doctor/monitoring-watch.ts';
import { OnboardingDoctor } from './services/doctor/onboarding-doctor.ts';
import type { SupportAccessService } from './services/support-access.ts';

export interface DoctorParts {
  config: Readonly<OrchestratorConfig>;
  registry: Registry;
  runtime: ContainerRuntime;
  secretBackend: SecretBackend;
  agents: AgentProxyService;
  control: AgentControl;
  support: SupportAccessService;
  portalStore: PortalStore | undefined;
  /** Where the last run per client is kept (the registry's database); none: runs are not kept. */
  store: OnboardingCheckStore | undefined;
  /** The fleet keeps agents on internal networks behind the egress proxy. */
  internalNetwork: boolean;
  metrics: MetricsRegistry;
  clock: Clock;
  /** Where the monitoring watch reports a broken pipeline; default: the service's JSON log on stdout. */
  logger?: Logger;
}

/** Runs are answered but not kept when the orchestrator was given a registry without the doctor's table. */
const unkeptRuns: OnboardingCheckStore = {
  save: async () => undefined,
  latest: async (): Promise<OnboardingReport[]> => [],
  latestOf: async () => null,
};

/**
 * Wires `fleet doctor` (a composition root, like orchestrator.ts): the Docker Engine reads agents'
 * hardening back, Vault holds the stored grants, the configured Prometheus says whether alerts are live,
 * and the last run of each client becomes `fleet_onboarding_open_items`.
 */
export async function composeDoctor(parts: DoctorParts): Promise<OnboardingDoctor> {
  const { config } = parts;
  const isolation =
    parts.runtime.kind === 'docker'
      ? new DockerAgentIsolation({ socketPath: config.dockerSocket, fleetId: await parts.registry.fleetId(), hostFirewall: composeHostFirewall(config) })
      : null;
  let vault: Promise<VaultGrantScopes> | null = null;
  const grants = {
    // The Vault client is made on first use: an orchestrator whose Vault is away still starts.
    grantScopes: async (...args: Parameters<VaultGrantScopes['grantScopes']>) => {
      vault ??= adminVaultClient(config, parts.secretBackend).then((client) => new VaultGrantScopes(client));
      vault.catch(() => (vault = null));
      return (await vault).grantScopes(...args);
    },
  };
  const prometheus =
    config.doctor.prometheusUrl === undefined ? null : new PrometheusAlertingProbe({ url: config.doctor.prometheusUrl });
  // The watcher of the watchers: checked by `fleet doctor` and, once started (doctor.watchMonitoring, by the service's schedules), every minute.
  const monitoring =
    prometheus === null
      ? null
      : new MonitoringWatch({ probe: prometheus, registry: parts.registry, clock: parts.clock, logger: parts.logger ?? createLogger({ service: 'orchestrator' }) });
  const doctor = new OnboardingDoctor({
    registry: parts.registry,
    volumes: parts.runtime.volumes,
    agentImage: config.agent.image,
    isolation,
    internalNetwork: parts.internalNetwork,
    grants,
    agents: parts.agents,
    control: parts.control,
    support: parts.support,
    portalCredentials: parts.portalStore?.credentials ?? null,
    alerting: prometheus,
    monitoring,
    store: parts.store ?? unkeptRuns,
    clock: parts.clock,
  });
  if (monitoring !== null) createMonitoringMetrics(parts.metrics, () => monitoring.latest());
  createOnboardingMetrics(parts.metrics, () => doctor.gaugeSamples());
  return doctor;
}
