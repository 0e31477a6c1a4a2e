import { Registry as MetricsRegistry, collectDefaultMetrics } from 'prom-client';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { Logger } from '@agent-fleet/kernel/logger';
import { HttpAgentControl, introductionTimeoutMs } from './adapters/http/http-agent-control.ts';
import { HttpAgentHealthProbe } from './adapters/http/http-agent-health-probe.ts';
import { openFleetCa, type FleetCa } from './adapters/fleet-ca/fleet-ca.ts';
import { DockerContainerRuntime } from './adapters/docker/docker-container-runtime.ts';
import type { CommandRunner } from './adapters/process/command-runner.ts';
import { kubernetesRuntimeFromConfig } from './adapters/kubernetes/kubernetes-runtime-from-config.ts';
import { FileSdScrapeTargets } from './adapters/prometheus/file-sd-scrape-targets.ts';
import { openRegistry } from './adapters/sql/open-registry.ts';
import { externalVaultCaPem, openSecretBackend, type SecretBackend } from './adapters/vault/open-secret-backend.ts';
import type { EgressProxies } from './adapters/egress-proxy/egress-proxies.ts';
import { EgressRefusalLog } from './adapters/egress-proxy/egress-refusal-log.ts';
import { composeEgress } from './compose-egress.ts';
import type { OrchestratorConfig } from './config.ts';
import { gatewayOf, parseIpv4Cidr } from './domain/ipv4-cidr.ts';
import { createAuthFailureMetrics, createOpsLogCheckpointMetrics, createOrchestratorMetrics, forgetEgressClient, type AuthSurface, type CountAuthRefusal } from './observability/metrics.ts';
import type { AgentControl } from './ports/agent-control.ts';
import type { AgentHealthProbe } from './ports/agent-health.ts';
import { systemClock, type Clock } from './ports/clock.ts';
import type { ContainerRuntime, NetworkInfo } from './ports/container-runtime.ts';
import type { ClientRecord, Registry } from './ports/registry.ts';
import type { ScrapeTargets } from './ports/scrape-targets.ts';
import { AgentProxyService } from './services/agent-proxy.ts';
import { ClientSecretsService } from './services/client-secrets.ts';
import { DeprovisionClientService } from './services/deprovision-client.ts';
import { enforceRetention } from './services/enforce-retention.ts';
import { introduceAgent, prepareIntroduction } from './services/introduce-agent.ts';
import { KillClientService } from './services/kill-client.ts';
import { ProvisionClientService } from './services/provision-client.ts';
import { ReconcileFleetService } from './services/reconcile-fleet.ts';
import { ReviveClientService } from './services/revive-client.ts';
import { SupportAccessService } from './services/support-access.ts';
import { AgentViewsService } from './services/agent-views.ts';
import { ApprovalNoticeService } from './services/approval-notices.ts';
import { PortalInviteService } from './services/portal-invites.ts';
import { ServicesClientGateway } from './portal/gateway/services-client-gateway.ts';
import { ServicesSettingsGateway } from './portal/gateway/services-settings-gateway.ts';
import { ClientSettingsService } from './services/settings/client-settings.ts';
import { startPortal, type PortalHandle } from './portal/start-portal.ts';
import { RotateCredentialsService } from './services/rotate-credentials.ts';
import { AgentTlsService } from './services/agent-tls/agent-tls.ts';
import { agentConfigDocumentOf, TlsArmedRuntime } from './services/agent-tls/tls-armed-runtime.ts';
import { composeHostFirewall } from './compose-host-firewall.ts';
import { composeAlertSilences, composeDataLifecycle, composeMetricsHistory, registerDataLifecycleGauges, type DataLifecycle } from './compose-data-lifecycle.ts';
import { composeIncidentResponse } from './compose-incidents.ts';
import { composeDoctor } from './compose-doctor.ts';
import { composeTeam, type TeamAccess } from './compose-team.ts';
import type { OnboardingCheckStore } from './ports/onboarding-probes.ts';
import type { PortalStore } from './ports/portal-store.ts';
import type { TeamStore } from './ports/team-store.ts';
import type { OnboardingDoctor } from './services/doctor/onboarding-doctor.ts';
import type { IncidentStore } from './ports/incident-store.ts';
import type { IncidentResponse } from './services/incidents/incident-response.ts';
import { unavailableIncidentStore } from './services/incidents/unavailable-incident-store.ts';
import { ClientOperationGuard } from './services/client-operation-guard.ts';
import { ClientSubnets } from './services/client-subnets.ts';

/** Everything the API, the CLI and the tests call: adapters wired into services. */
export interface Orchestrator {
  config: Readonly<OrchestratorConfig>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  control: AgentControl;
  secretBackend: SecretBackend;
  /** The fleet CA (portal, embedded Vault and agent certificates) and the agents' certificates it issues. */
  tls: { ca: FleetCa; agents: AgentTlsService };
  provision: ProvisionClientService;
  deprovision: DeprovisionClientService;
  reconcile: ReconcileFleetService;
  kill: KillClientService;
  revive: ReviveClientService;
  rotate: RotateCredentialsService;
  secrets: ClientSecretsService;
  agents: AgentProxyService;
  /** Each client's versioned settings, kept by its agent: show, change, history, rollback, checkpoint. */
  settings: ClientSettingsService;
  /** Per-incident, client-approved, time-limited access of the team to a client's data. */
  support: SupportAccessService;
  /** The client portal on its own listener, its invitations and one-tap approval notices; null unless started. */
  portal: FleetPortal | null;
  /** Exports, encrypted backups, restores and erasures of clients' data. */
  dataLifecycle: DataLifecycle;
  /** The incident process: its clocks, containment, sealed evidence and the post-incident report. */
  incidents: IncidentResponse;
  /** The agency's team members and their sessions on the ops API. */
  team: TeamAccess;
  /** `fleet doctor`: the onboarding checklist against the live system. */
  doctor: OnboardingDoctor;
  /** Deletes the data of clients closed longer ago than the retention period; returns their ids. */
  enforceRetention(): Promise<string[]>;
  metrics: MetricsRegistry;
  /** Counts a refused authentication on a surface (fleet_api_auth_failures_total, on `metrics`). */
  authFailures: Record<AuthSurface, CountAuthRefusal>;
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
  /** Google's OAuth token revocation endpoint used by erasure (tests: the Gmail emulator's). */
  googleRevokeUrl?: string;
  /** Start the client portal on its own listener (the service does; tests ask for it). Needs the own registry. */
  portal?: boolean;
  /** Where incidents are kept (the registry's database). */
  incidentStore?: IncidentStore;
  /** Where team identities and sessions are kept (the registry's database). */
  teamStore?: TeamStore;
  /** Where the last onboarding check of each client is kept (the registry's database). */
  onboardingStore?: OnboardingCheckStore;
  /** The client portal's store (the doctor reads admins' enrolment in it; an erasure and a purge empty it of the client), when the registry is given from outside. */
  portalStore?: PortalStore;
}

/** The started portal with what uses its keys: enrolment invitations and one-tap approval notices. */
export interface FleetPortal {
  handle: PortalHandle;
  invites: PortalInviteService;
  notices: ApprovalNoticeService;
}

const LIVE_STATUSES = new Set<ClientRecord['status']>(['active', 'killed', 'provisioning']);

/** The one runtime this orchestrator runs agents on (FLEET_RUNTIME). */
async function openContainerRuntime(
  config: Readonly<OrchestratorConfig>,
  registry: Registry,
  logger: Logger,
  commandRunner: CommandRunner | undefined,
  egress: EgressProxies | null,
): Promise<ContainerRuntime> {
  if (config.runtime === 'kubernetes') return kubernetesRuntimeFromConfig(config, logger, commandRunner, await externalVaultCaPem(config));
  const egressProxy = egress && ((clientId: ClientId, network: Pick<NetworkInfo, 'gateway' | 'subnet'>) => egress.listen(clientId, network));
  return new DockerContainerRuntime({ socketPath: config.dockerSocket, fleetId: await registry.fleetId(), egressProxy });
}

export async function createOrchestrator(
  config: Readonly<OrchestratorConfig>,
  logger: Logger,
  overrides: OrchestratorOverrides = {},
): Promise<Orchestrator> {
  const clock = overrides.clock ?? systemClock;
  const opened = overrides.registry ? null : await openRegistry({ databaseUrl: config.databaseUrl, homeDir: config.homeDir, logger });
  const registry = overrides.registry ?? opened!.registry;
  const incidentStore = overrides.incidentStore ?? opened?.incidentStore ?? unavailableIncidentStore;
  // One portal store for the portal, the doctor and the client's deletion (erasure, purge): none may miss what another wrote.
  const portalStore = overrides.portalStore ?? opened?.portalStore;
  if (opened !== null && Object.values(opened.sealedNow).some((count) => count > 0)) {
    logger.info('registry rows written before sealing are sealed now', opened.sealedNow);
  }
  // A checkpoint made at start from the log's head ('created') is logged and recorded in the log by the registry.
  if (opened?.opsLogAnchoring.checkpoint === 'invalid') {
    logger.error('ops-log head checkpoint invalid: ops-log verification fails until it is re-anchored', { problem: opened.opsLogAnchoring.problem });
  }
  const metricsRegistry = new MetricsRegistry();
  collectDefaultMetrics({ register: metricsRegistry });
  const authFailures = createAuthFailureMetrics(metricsRegistry);
  const checkpointStatus = registry.opsLogCheckpointStatus?.bind(registry);
  if (checkpointStatus !== undefined) createOpsLogCheckpointMetrics(metricsRegistry, checkpointStatus);
  // The egress proxies go with the runtime that names them to its agents: none for a runtime given from outside.
  // One writer of the egress refusal log, also when the proxy is off now: an erasure still forgets a client's old lines.
  const egressRefusals = new EgressRefusalLog(config.egress.refusalLogFile);
  const egress = overrides.runtime ? null : composeEgress({ config, registry, metrics: metricsRegistry, logger, refusals: egressRefusals });
  const engine = overrides.runtime ?? (await openContainerRuntime(config, registry, logger, overrides.commandRunner, egress));
  // On Kubernetes Prometheus finds agents through their ServiceMonitor or scrape annotations; the file
  // still records each agent's Service address, so status and reconcile work the same on both runtimes.
  const targets = new FileSdScrapeTargets(config.targetsFile);
  // Certificates are dated by the wall clock their peers check them against, never a shifted test clock.
  const ca = await openFleetCa(config.portal.dataDir, systemClock.now());
  const health = overrides.health ?? new HttpAgentHealthProbe({ caPem: ca.certificatePem });
  const control = overrides.control ?? new HttpAgentControl({ caPem: ca.certificatePem, introductionTimeoutMs: introductionTimeoutMs(config.agent.healthTimeoutMs) });
  const secretBackend = overrides.secretBackend ?? (await openSecretBackend(config, logger, ca));
  const secrets = secretBackend.store;
  const agentTls = new AgentTlsService({ issuer: ca, vault: secretBackend.agentTls, clock: systemClock, logger });
  const runtime = new TlsArmedRuntime(engine, {
    tls: agentTls,
    vaultCaPem: secretBackend.vaultCaPem,
    agentUser: config.agent.user,
    configDocumentFor: (clientId) => agentConfigDocumentOf(registry, clientId),
  });
  const hostFirewall = overrides.runtime ? null : composeHostFirewall(config);
  // The orchestrator's listeners on a client network's gateway (the embedded Vault and the egress proxy),
  // and of the host only what is bound to that gateway is reachable from the network.
  const gatewayListeners = async (clientId: ClientId, network: Pick<NetworkInfo, 'gateway' | 'subnet'>): Promise<string> => {
    const [, vaultUrl] = await Promise.all([
      egress?.listen(clientId, network),
      secretBackend.vaultAddressForNetwork(clientId, network),
      hostFirewall?.confine(clientId, network),
    ]);
    return vaultUrl;
  };

  const vaultAddressFor = async (clientId: ClientId): Promise<string> => {
    const subnet = (await registry.getClient(clientId))?.subnet;
    if (!subnet) throw new FleetError('conflict', `${clientId} has no network`);
    return gatewayListeners(clientId, { gateway: gatewayOf(parseIpv4Cidr(subnet)), subnet });
  };
  const introduction = { secrets, control, vaultAddressFor, readyTimeoutMs: config.agentReadyTimeoutMs, runtime };
  const introduce = (clientId: ClientId, controlAddress: string) => introduceAgent(introduction, clientId, controlAddress);

  // Agents already running (after an orchestrator restart) must reach the embedded store again at once.
  for (const client of await registry.listClients()) {
    if (client.subnet && LIVE_STATUSES.has(client.status)) {
      await vaultAddressFor(client.id).catch((error: unknown) =>
        logger.warn('vault, egress proxy or host firewall not set up for a client network', { client: client.id, error }),
      );
    }
  }

  // Backup, restore, erasure, deprovisioning, revive and the export of a client whose agent is not active never overlap (client-operation-guard.ts).
  const clientOperations = new ClientOperationGuard();
  // One subnet allocation at a time: provisioning and the export of a closed client both make networks.
  const subnets = new ClientSubnets({ config, registry, runtime });
  // The orchestrator's own series labelled with a client, forgotten when the client is deleted.
  const ownClientMetrics = { forgetClient: (clientId: ClientId) => forgetEgressClient(metricsRegistry, clientId) };
  const deprovision = new DeprovisionClientService({
    registry,
    runtime,
    targets,
    guard: clientOperations,
    clock,
    logger,
    // A purge deletes what monitoring keeps of the client as an erasure does (its series, its silences).
    metricsHistory: composeMetricsHistory(config),
    ownMetrics: ownClientMetrics,
    alertSilences: composeAlertSilences(config.doctor.alertmanagerUrl),
    extension: {
      // The removed agent's tokens would stay live until the next rotation, and its proxy listener would keep
      // its allow-list (its config) in memory and log under its id: both end with it.
      onRemove: async (clientId) => {
        await secrets.revokeAgentTokens(clientId);
        await egress?.release(clientId);
      },
      // Closure after the retention period: what the erasure deletes outside the volume and the row (purge-client-stores.ts).
      onPurge: (clientId) => lifecycle.purgeStores(clientId),
    },
  });

  const kill = new KillClientService({ config, registry, runtime, targets, secrets, control, clock, logger, egress });
  const revive = new ReviveClientService({ config, registry, runtime, targets, secrets, control, health, clock, logger, vaultAddressFor, introduce, guard: clientOperations });
  const agents = new AgentProxyService({ registry, runtime, secrets, control, clock, logger, volumes: { introduce, guard: clientOperations } });
  const settings = new ClientSettingsService({
    registry, agents, control, clock, logger, egress,
    // Called at a recorded change, by which time the support service (made below) exists.
    supportGrants: { endGrantsOfFormerAdmins: (clientId, admins) => support.endGrantsOfFormerAdmins(clientId, admins) },
  });
  const support = new SupportAccessService({
    registry,
    clock,
    linkIncident: (incident, clientId) => incidents.incidents.checkSupportLink(incident, clientId),
    // Asked at each request, by which time the team (made below) exists.
    isTeamMember: (member) => team.members.isMember(member),
  });
  const rotate = new RotateCredentialsService({ registry, runtime, secrets, logger, introduce, renewTls: (clientId) => agentTls.renew(clientId), guard: clientOperations });
  const lifecycle = await composeDataLifecycle({
    config, registry, runtime, targets, health, control, secretBackend, clock, logger, kill, support, vaultAddressFor, introduce,
    guard: clientOperations,
    subnets,
    incidentStore,
    egressRefusals,
    ownMetrics: ownClientMetrics,
    portalStore,
    googleRevokeUrl: overrides.googleRevokeUrl,
    alertmanagerUrl: config.doctor.alertmanagerUrl,
  });
  // An orchestrator that stopped in the middle of a backup left that agent frozen.
  await lifecycle.backups.thawAll();
  let portal: FleetPortal | null = null;
  if (overrides.portal === true) {
    if (opened === null || portalStore === undefined) throw new FleetError('invalid_input', 'the client portal needs the orchestrator’s own registry');
    const views = new AgentViewsService({ agents, control });
    const gateway = new ServicesClientGateway({ registry, agents, views, killer: kill, reviver: revive, support, review: { registry, runtime, control, secrets } });
    const settingsGateway = new ServicesSettingsGateway({ settings, registry });
    const handle = await startPortal({ config: config.portal, store: portalStore, gateway, settings: settingsGateway, clock, logger, ca, onAuthRefused: authFailures.portal });
    portal = {
      handle,
      invites: new PortalInviteService({ registry, views, issue: (clientId, email) => handle.inviteAdmin(clientId, email) }),
      notices: new ApprovalNoticeService({ registry, agents, views, approvalLink: handle.approvalLink, logger }),
    };
  }

  const metrics = createOrchestratorMetrics(metricsRegistry, () => registry.listClients());
  registerDataLifecycleGauges(metricsRegistry, registry, lifecycle);
  const incidents = await composeIncidentResponse({
    ...{ config, registry, runtime, secretBackend, agents, support, kill, rotate, metrics: metricsRegistry, clock, logger },
    store: incidentStore,
    signer: lifecycle.signer,
    googleRevokeUrl: overrides.googleRevokeUrl,
  });
  const team = await composeTeam({ homeDir: config.homeDir, store: overrides.teamStore ?? opened?.teamStore, registry, clock, onAuthRefused: authFailures.api });
  const doctor = await composeDoctor({
    ...{ config, registry, runtime, secretBackend, agents, control, support, clock, logger, metrics: metricsRegistry },
    portalStore,
    store: overrides.onboardingStore ?? opened?.onboardingStore,
    internalNetwork: egress !== null,
  });

  return {
    config,
    registry,
    runtime,
    targets,
    health,
    control,
    secretBackend,
    tls: { ca, agents: agentTls },
    metrics: metricsRegistry,
    authFailures,
    provision: new ProvisionClientService({
      config,
      registry,
      runtime,
      targets,
      health,
      clock,
      logger,
      metrics,
      secrets: { store: secrets, vaultAddressForNetwork: gatewayListeners, prepareIntroduction: (clientId) => prepareIntroduction(introduction, clientId) },
      subnets,
      guard: clientOperations,
    }),
    deprovision,
    enforceRetention: () =>
      enforceRetention({
        registry,
        deprovision,
        clock,
        logger,
        retentionDays: config.retentionDays,
        metricsHistory: lifecycle.metricsHistory,
        ownMetrics: ownClientMetrics,
        alertSilences: lifecycle.alertSilences,
        guard: clientOperations,
      }),
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
      operations: clientOperations,
    }),
    kill,
    revive,
    rotate,
    secrets: new ClientSecretsService({ registry, secrets }),
    agents,
    settings,
    support,
    dataLifecycle: lifecycle,
    incidents,
    team,
    doctor,
    portal,
    async close() {
      await portal?.handle.close();
      await egress?.close();
      if (!overrides.secretBackend) await secretBackend.close();
      if (!overrides.registry) await registry.close();
    },
  };
}
