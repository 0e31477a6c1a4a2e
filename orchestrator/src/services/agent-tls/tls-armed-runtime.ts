import { AGENT_TLS_HANDOVER_FILE, AGENT_VAULT_CA_FILE } from '@agent-fleet/kernel/agent-identity';
import { agentConfigDocument } from '@agent-fleet/kernel/client-config-yaml';
import type { ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import { AGENT_SEALED_CONFIG_FILE, sealAgentConfig } from '@agent-fleet/kernel/sealed-agent-config';
import type {
  AgentVolumes,
  AgentWorkloadSpec,
  ContainerRuntime,
  ManagedResource,
  NetworkInfo,
  VolumeReaderSpec,
} from '../../ports/container-runtime.ts';
import type { Registry } from '../../ports/registry.ts';
import type { AgentTlsService } from './agent-tls.ts';

/** Where the Docker agent's volume is mounted: placed files land there. */
const AGENT_DATA_DIR = '/data';

export interface TlsArmingOptions {
  tls: Pick<AgentTlsService, 'renew' | 'handover'>;
  /** PEM the agent verifies Vault's TLS against (the fleet CA or VAULT_CACERT); null: Node's root store. */
  vaultCaPem: string | null;
  /** The agent's uid:gid, owner of the files placed in its volume. */
  agentUser: string;
  /** The config document a Docker agent of the client starts with (what the fleet applies now). */
  configDocumentFor(clientId: ClientId): Promise<string>;
}

/**
 * The runtime with every agent start armed with a fresh TLS identity, so that no start (provision,
 * reconcile, revive, restore, an export's volume reader) can skip it:
 * - Docker: right before the start, the CA the agent verifies Vault against (public), the single-use
 *   wrapping token of its new bundle and its config sealed under the key that bundle carries are placed in
 *   its volume; the agent deletes the token, unwraps it and opens its config. The config is never in the
 *   volume in the clear, and its key never at rest beside it.
 * - Kubernetes: the new bundle is stored in the client's Vault path before the pod starts; the chart's
 *   Vault Agent renders it into the pod's in-memory /vault/secrets (no Kubernetes Secret, no helm value).
 */
export class TlsArmedRuntime implements ContainerRuntime {
  readonly kind: ContainerRuntime['kind'];
  readonly volumes: AgentVolumes;
  private readonly inner: ContainerRuntime;
  private readonly options: TlsArmingOptions;

  constructor(inner: ContainerRuntime, options: TlsArmingOptions) {
    this.inner = inner;
    this.options = options;
    this.kind = inner.kind;
    const volumes = inner.volumes;
    this.volumes = {
      freezeAgent: (clientId) => volumes.freezeAgent(clientId),
      thawAgent: (clientId) => volumes.thawAgent(clientId),
      snapshot: (clientId, image) => volumes.snapshot(clientId, image),
      stage: (clientId, image, name, tar) => volumes.stage(clientId, image, name, tar),
      swap: (clientId, image, user, name) => volumes.swap(clientId, image, user, name),
      recover: (clientId, image, user) => volumes.recover(clientId, image, user),
      writeFiles: (clientId, image, user, files) => volumes.writeFiles(clientId, image, user, files),
      startReader: (spec) => this.startReader(spec),
      removeHelpers: (clientId) => volumes.removeHelpers(clientId),
    };
  }

  /** VAULT_CACERT as the Docker agent finds it (Kubernetes: the chart sets it). */
  private vaultCaEnvironment(): Record<string, string> {
    return this.kind === 'docker' && this.options.vaultCaPem !== null ? { VAULT_CACERT: `${AGENT_DATA_DIR}/${AGENT_VAULT_CA_FILE}` } : {};
  }

  private async arm(clientId: ClientId): Promise<void> {
    if (this.kind === 'kubernetes') {
      await this.options.tls.renew(clientId);
      return;
    }
    // One copy into the container for both files (each copy costs the Engine a mount of the container's filesystem).
    await this.inner.placeFiles(clientId, await this.handoverFiles(clientId), this.options.agentUser);
  }

  /** The Vault CA, a fresh TLS handover and the config sealed for it, as the agent (or a reader) finds them in its volume. */
  private async handoverFiles(clientId: ClientId): Promise<Record<string, string>> {
    const { vaultCaPem } = this.options;
    const document = await this.options.configDocumentFor(clientId);
    const handover = await this.options.tls.handover(clientId);
    return {
      ...(vaultCaPem === null ? {} : { [AGENT_VAULT_CA_FILE]: vaultCaPem }),
      [AGENT_SEALED_CONFIG_FILE]: sealAgentConfig(document, clientId, handover.configKey),
      [AGENT_TLS_HANDOVER_FILE]: handover.wrappingToken,
    };
  }

  async createAgent(spec: AgentWorkloadSpec): Promise<void> {
    await this.inner.createAgent({ ...spec, environment: { ...spec.environment, ...this.vaultCaEnvironment() } });
  }

  async startAgent(clientId: ClientId): Promise<void> {
    // Docker: a start of a running container does nothing, so no handover is left unredeemed in its volume.
    const running = this.kind === 'docker' && (await this.inner.inspectAgent(clientId))?.running === true;
    if (!running) await this.arm(clientId);
    await this.inner.startAgent(clientId);
  }

  private async startReader(spec: VolumeReaderSpec): Promise<string> {
    // Through the volume itself: the reader mounts it read-only, and a closed client's agent container is gone.
    if (this.kind === 'kubernetes') await this.arm(spec.clientId);
    else await this.inner.volumes.writeFiles(spec.clientId, spec.image, spec.user, await this.handoverFiles(spec.clientId));
    return this.inner.volumes.startReader({ ...spec, environment: { ...spec.environment, ...this.vaultCaEnvironment() } });
  }

  ensureVolume(clientId: ClientId): Promise<{ created: boolean }> {
    return this.inner.ensureVolume(clientId);
  }

  removeVolume(clientId: ClientId): Promise<void> {
    return this.inner.removeVolume(clientId);
  }

  ensureNetwork(clientId: ClientId, subnet: string): Promise<NetworkInfo & { created: boolean }> {
    return this.inner.ensureNetwork(clientId, subnet);
  }

  removeNetwork(clientId: ClientId): Promise<void> {
    return this.inner.removeNetwork(clientId);
  }

  listSubnetsInUse(): Promise<string[]> {
    return this.inner.listSubnetsInUse();
  }

  placeFiles(clientId: ClientId, files: Readonly<Record<string, string>>, user: string): Promise<void> {
    return this.inner.placeFiles(clientId, files, user);
  }

  removePlacedFile(clientId: ClientId, fileName: string): Promise<void> {
    return this.inner.removePlacedFile(clientId, fileName);
  }

  stopAgent(clientId: ClientId, graceSeconds: number): Promise<void> {
    return this.inner.stopAgent(clientId, graceSeconds);
  }

  removeAgent(clientId: ClientId): Promise<void> {
    return this.inner.removeAgent(clientId);
  }

  inspectAgent(clientId: ClientId) {
    return this.inner.inspectAgent(clientId);
  }

  listManaged(): Promise<ManagedResource[]> {
    return this.inner.listManaged();
  }

  preflightWarnings(): Promise<string[]> {
    return this.inner.preflightWarnings();
  }
}

/** The config document a client's agent starts with: the registry's config, as the agent reads it. */
export async function agentConfigDocumentOf(registry: Pick<Registry, 'getClient'>, clientId: ClientId): Promise<string> {
  const client = await registry.getClient(clientId);
  if (client === null) throw new FleetError('not_found', `${clientId} is not in the registry: no config to start its agent with`);
  return agentConfigDocument(client.configYaml);
}
