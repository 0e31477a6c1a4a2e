import path from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import { PrometheusMetricsHistory } from './adapters/prometheus/prometheus-metrics-history.ts';
import { AlertmanagerAlertSilences } from './adapters/alertmanager/alertmanager-alert-silences.ts';
import { DirectoryBackupStore } from './adapters/backup-directory/directory-backup-store.ts';
import { EncryptedFileStore, loadOrCreateMasterKey } from './adapters/embedded-vault/encrypted-file-store.ts';
import { adminVaultClient } from './adapters/vault/admin-vault-client.ts';
import type { SecretBackend } from './adapters/vault/open-secret-backend.ts';
import { VaultKeyWrapper } from './adapters/vault/vault-key-wrapper.ts';
import { VaultMailboxGrants } from './adapters/vault/vault-mailbox-grants.ts';
import type { MailboxGrants } from './ports/mailbox-grants.ts';
import type { MetricsHistory } from './ports/metrics-history.ts';
import type { AlertSilences } from './ports/alert-silences.ts';
import { exportSpoolDirectory } from './services/leftover-work.ts';
import type { OrchestratorConfig } from './config.ts';
import { registerDataLifecycleMetrics } from './observability/data-lifecycle-metrics.ts';
import type { AgentControl } from './ports/agent-control.ts';
import type { AgentHealthProbe } from './ports/agent-health.ts';
import type { Clock } from './ports/clock.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { PortalStore } from './ports/portal-store.ts';
import type { Registry } from './ports/registry.ts';
import type { ScrapeTargets } from './ports/scrape-targets.ts';
import { BackupService } from './services/backup/backup-service.ts';
import { ClientBackups } from './services/backup/client-backups.ts';
import { RestoreClientService } from './services/backup/restore-client.ts';
import { checkRestoredChain } from './services/backup/restored-chain.ts';
import { EraseClientService } from './services/erasure/erase-client.ts';
import { ClientExportService } from './services/export/client-export-service.ts';
import { loadOrCreateExportSigner, type ExportSigner } from './services/export/export-signing-key.ts';
import type { ClientOperationGuard } from './services/client-operation-guard.ts';
import type { IncidentStore } from './ports/incident-store.ts';
import type { ClientSubnets } from './services/client-subnets.ts';
import { reopenClosedClientNetwork } from './services/export/closed-client-network.ts';
import type { KillClientService } from './services/kill-client.ts';
import type { SupportAccessService } from './services/support-access.ts';
import { deleteClientEvidence, evidenceDirectory } from './services/incidents/evidence-files.ts';
import { forgetIncidentRecipients } from './services/erasure/incident-recipients.ts';
import { purgeClientStores } from './services/purge-client-stores.ts';
import { failingPurges, RETENTION_LOG_ACTIONS } from './services/enforce-retention.ts';
import type { EgressRefusalLog } from './adapters/egress-proxy/egress-refusal-log.ts';

/** The client's data from export to erasure: exports, encrypted backups, restores, erasures. */
export interface DataLifecycle {
  exports: ClientExportService;
  /** Encrypted backup storage (create, verify, prune, deleteAll) under the client's key. */
  backupStore: BackupService;
  backups: ClientBackups;
  restore: RestoreClientService;
  erasure: EraseClientService;
  /** The fleet's export key (`<home>/export-key`): signs client exports and incident evidence. */
  signer: ExportSigner;
  /** Clients' OAuth grants at their mail provider, revoked by an erasure and by a purge. */
  grants: MailboxGrants;
  /** Prometheus's stored series of each client, deleted by an erasure, a purge and the retention run's retries; absent without Prometheus. */
  metricsHistory: MetricsHistory | undefined;
  /** Alertmanager's silences of each client, expired by an erasure, a purge and the retention run's retries; absent without Alertmanager. */
  alertSilences: AlertSilences | undefined;
  /**
   * A purge's deletion of what the client left outside its volume and registry row (the deprovision's
   * `onPurge`): the stores the erasure empties, from the same parts, so the two cannot drift apart.
   */
  purgeStores: (clientId: ClientId) => Promise<void>;
}

export interface DataLifecycleParts {
  config: Readonly<OrchestratorConfig>;
  registry: Registry;
  runtime: ContainerRuntime;
  targets: ScrapeTargets;
  health: AgentHealthProbe;
  control: AgentControl;
  secretBackend: SecretBackend;
  clock: Clock;
  logger: Logger;
  kill: KillClientService;
  support: SupportAccessService;
  vaultAddressFor: (clientId: ClientId) => Promise<string>;
  introduce: (clientId: ClientId, controlAddress: string) => Promise<void>;
  /** One operation on a client's volume at a time, shared with deprovisioning. */
  guard: ClientOperationGuard;
  /** Subnet allocation, shared with provisioning: a closed client's export makes its network again. */
  subnets: ClientSubnets;
  /** The egress proxy's refusal log, whose lines of a client an erasure and a purge remove; absent without one. */
  egressRefusals?: Pick<EgressRefusalLog, 'forgetClient'> | undefined;
  /** The client portal's store, which an erasure and a purge empty of the client; absent with an outside registry and none given. */
  portalStore?: Pick<PortalStore, 'forgetClient'> | undefined;
  /** The incident records, whose notifications an erasure strips of the client's people. */
  incidentStore: IncidentStore;
  /** The orchestrator's per-client counters that outlive a client (the egress proxy's), dropped by an erasure. */
  ownMetrics?: { forgetClient(clientId: ClientId): void } | undefined;
  /** Google's token revocation endpoint (tests: the Gmail emulator's). */
  googleRevokeUrl?: string | undefined;
  /** Alertmanager's API (e.g. http://127.0.0.1:9093), whose silences of a client an erasure expires; absent: none configured. */
  alertmanagerUrl?: string | undefined;
}

/** The Prometheus `fleet doctor` asks is the one that scraped the agents; its admin API deletes their series. */
export function composeMetricsHistory(config: Readonly<OrchestratorConfig>): MetricsHistory | undefined {
  return config.doctor.prometheusUrl === undefined ? undefined : new PrometheusMetricsHistory({ url: config.doctor.prometheusUrl });
}

/** The Alertmanager whose silences of a client its deletion (erasure, purge) expires; none without its URL. */
export function composeAlertSilences(alertmanagerUrl: string | undefined): AlertSilences | undefined {
  return alertmanagerUrl === undefined ? undefined : new AlertmanagerAlertSilences({ url: alertmanagerUrl });
}

/** Wires the data-lifecycle services from the orchestrator's parts (a composition root, like orchestrator.ts). */
export async function composeDataLifecycle(parts: DataLifecycleParts): Promise<DataLifecycle> {
  const { config, registry, runtime, targets, health, control, clock, logger } = parts;
  const secrets = parts.secretBackend.store;
  const adminVault = await adminVaultClient(config, parts.secretBackend);
  const keys = new VaultKeyWrapper({ client: adminVault, logger });
  const backupStore = new BackupService({
    store: new DirectoryBackupStore({ root: path.join(config.homeDir, 'backups'), logger }),
    keys,
    clock,
    logger,
  });
  const keyDir = path.join(config.homeDir, 'export-key');
  const signer = await loadOrCreateExportSigner(new EncryptedFileStore(keyDir, await loadOrCreateMasterKey(keyDir)), clock.now());
  const exports = new ClientExportService({
    registry,
    secrets,
    support: parts.support,
    agentData: {
      config,
      runtime,
      secrets,
      control,
      health,
      vaultAddressFor: parts.vaultAddressFor,
      logger,
      reopenNetwork: (clientId) =>
        reopenClosedClientNetwork({ subnets: parts.subnets, runtime, registry, vaultAddressFor: parts.vaultAddressFor }, clientId),
    },
    guard: parts.guard,
    signer,
    clock,
    spoolDir: exportSpoolDirectory(config.homeDir),
    logger,
  });
  const metricsHistory = composeMetricsHistory(config);
  const grants = new VaultMailboxGrants({ client: adminVault, logger, ...(parts.googleRevokeUrl === undefined ? {} : { googleRevokeUrl: parts.googleRevokeUrl }) });
  const alertSilences = composeAlertSilences(parts.alertmanagerUrl);
  const evidence = { deleteClientBundles: (clientId: ClientId) => deleteClientEvidence(evidenceDirectory(config.homeDir), clientId) };
  const incidents = { forgetClientRecipients: (clientId: ClientId) => forgetIncidentRecipients(parts.incidentStore, clientId) };
  const purgeStores = (clientId: ClientId) =>
    purgeClientStores({ registry, grants, backups: backupStore, evidence, incidents, egressRefusals: parts.egressRefusals, portal: parts.portalStore, secrets, logger }, clientId);
  const erasure = new EraseClientService({
    registry,
    runtime,
    targets,
    secrets,
    keys,
    grants,
    backups: backupStore,
    evidence,
    incidents,
    egressRefusals: parts.egressRefusals,
    metricsHistory,
    alertSilences,
    ownMetrics: parts.ownMetrics,
    kill: parts.kill,
    guard: parts.guard,
    portal: parts.portalStore,
    clock,
    logger,
  });
  const restore = new RestoreClientService({
    config,
    registry,
    runtime,
    targets,
    health,
    backups: backupStore,
    guard: parts.guard,
    clock,
    logger,
    vaultAddressFor: parts.vaultAddressFor,
    introduce: parts.introduce,
    verifyChain: (clientId, address, restoredAt) => checkRestoredChain({ registry, secrets, control }, clientId, address, restoredAt),
    secrets,
  });
  const backups = new ClientBackups({ config, registry, runtime, backups: backupStore, guard: parts.guard, logger });
  return { exports, backupStore, backups, restore, erasure, signer, grants, metricsHistory, alertSilences, purgeStores };
}

/** The data-lifecycle gauges (erasure deadlines, newest backups, failing purges) on the orchestrator's metrics registry. */
export function registerDataLifecycleGauges(metrics: MetricsRegistry, registry: Registry, lifecycle: DataLifecycle): void {
  registerDataLifecycleMetrics(metrics, {
    listClients: () => registry.listClients(),
    listBackups: (clientId) => lifecycle.backupStore.list(clientId),
    openErasureRequests: () => lifecycle.erasure.reportedOpenRequests(),
    failingPurges: async () => failingPurges(await registry.listOpsLog({ actions: RETENTION_LOG_ACTIONS })),
  });
}
