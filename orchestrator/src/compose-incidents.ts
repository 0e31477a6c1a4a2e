import type { Registry as MetricsRegistry } from 'prom-client';
import type { Logger } from '@agent-fleet/kernel/logger';
import { DockerAgentForensics } from './adapters/docker/docker-agent-forensics.ts';
import { VaultOAuthGrantRevoker } from './adapters/oauth/vault-oauth-grant-revoker.ts';
import { adminVaultClient } from './adapters/vault/admin-vault-client.ts';
import type { SecretBackend } from './adapters/vault/open-secret-backend.ts';
import { VaultKeyWrapper } from './adapters/vault/vault-key-wrapper.ts';
import { VaultMailboxGrants } from './adapters/vault/vault-mailbox-grants.ts';
import type { OrchestratorConfig } from './config.ts';
import { createIncidentMetrics } from './observability/metrics.ts';
import type { Clock } from './ports/clock.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { IncidentStore } from './ports/incident-store.ts';
import type { Registry } from './ports/registry.ts';
import type { AgentProxyService } from './services/agent-proxy.ts';
import type { ExportSigner } from './services/export/export-signing-key.ts';
import { evidenceDirectory } from './services/incidents/evidence-files.ts';
import { createIncidentResponse, type IncidentResponse } from './services/incidents/incident-response.ts';
import type { KillClientService } from './services/kill-client.ts';
import type { RotateCredentialsService } from './services/rotate-credentials.ts';
import type { SupportAccessService } from './services/support-access.ts';

export interface IncidentParts {
  config: Readonly<OrchestratorConfig>;
  store: IncidentStore;
  registry: Registry;
  runtime: ContainerRuntime;
  secretBackend: SecretBackend;
  agents: AgentProxyService;
  support: SupportAccessService;
  kill: KillClientService;
  rotate: RotateCredentialsService;
  metrics: MetricsRegistry;
  clock: Clock;
  logger: Logger;
  /** The fleet's export key (the data lifecycle's): it signs evidence bundles as it signs client exports. */
  signer: ExportSigner;
  /** Google's token revocation endpoint (tests: a local one). */
  googleRevokeUrl?: string | undefined;
}

/**
 * Wires the incident process from the orchestrator's parts (a composition root, like orchestrator.ts):
 * the fleet's export key signs evidence bundles (the same key as client exports, `<home>/export-key`),
 * each client's transit key encrypts its bundles at rest,
 * Docker agents give their inspect and logs, and the clocks become `fleet_incident_deadline_seconds`.
 */
export async function composeIncidentResponse(parts: IncidentParts): Promise<IncidentResponse> {
  const { config, registry, runtime, clock, logger } = parts;
  const vault = await adminVaultClient(config, parts.secretBackend);
  const forensics = runtime.kind === 'docker' ? new DockerAgentForensics({ socketPath: config.dockerSocket, fleetId: await registry.fleetId() }) : null;
  const response = createIncidentResponse({
    store: parts.store,
    registry,
    clock,
    logger,
    // Business days for a low-severity incident's response clock are counted in UTC.
    clocks: { timeZone: 'UTC' },
    support: parts.support,
    kill: parts.kill,
    rotate: parts.rotate,
    oauth: new VaultOAuthGrantRevoker({
      grants: new VaultMailboxGrants({ client: vault, logger, ...(parts.googleRevokeUrl === undefined ? {} : { googleRevokeUrl: parts.googleRevokeUrl }) }),
      vault,
    }),
    sources: { runtime, agents: parts.agents, forensics, metricsSnapshot: () => parts.metrics.metrics() },
    signer: () => Promise.resolve(parts.signer),
    keys: new VaultKeyWrapper({ client: vault, logger }),
    evidenceDir: evidenceDirectory(config.homeDir),
  });
  createIncidentMetrics(parts.metrics, () => response.clockSamples());
  return response;
}
