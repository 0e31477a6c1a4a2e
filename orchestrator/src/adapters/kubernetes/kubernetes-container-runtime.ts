import { LABEL_CLIENT, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import type { Logger } from '@agent-fleet/kernel/logger';
import type {
  AgentWorkloadSpec,
  AgentWorkloadState,
  ContainerRuntime,
  ManagedResource,
  NetworkInfo,
} from '../../ports/container-runtime.ts';
import {
  clientNamespaceManifest,
  clientVolumeClaimManifest,
  DEFAULT_DENY_POLICY_NAME,
  defaultDenyNetworkPolicyManifest,
  manifestList,
  placedFilesManifest,
} from './client-namespace-manifests.ts';
import type { CommandRunner } from '../process/command-runner.ts';
import { KubeCommands } from './kube-commands.ts';
import { parseJsonOutput, translateCommandFailure } from './kubernetes-errors.ts';
import { getOwned, getOwnedOrConflict } from './owned-objects.ts';
import { unsupportedAgentVolumes } from './unsupported-agent-volumes.ts';
import { renderAgentValues, type AgentValuesOptions } from './render-agent-values.ts';
import { managedResourcesFromObjects, parseKubeList, workloadStateFromObjects } from './workload-state.ts';
import { checkPlacedFileName } from '../placed-file-name.ts';

export interface KubernetesRuntimeOptions {
  runner: CommandRunner;
  /** Paths of the helm and kubectl binaries (scripts/k8s-tools.sh prints them in a checkout). */
  helmPath: string;
  kubectlPath: string;
  /** Directory of charts/fleet-agent. */
  chartPath: string;
  /** Cluster facts for every client's values (Vault, monitoring and orchestrator namespaces, …). */
  agent: Omit<AgentValuesOptions, 'replicas' | 'claimCreatedOutsideRelease'>;
  /** DNS domain of the cluster, for the agents' Service names. Default cluster.local. */
  clusterDomain?: string;
  /** kubeconfig context; undefined means the current context (or in-cluster config). */
  kubeContext?: string;
  /** Seconds for helm to install/uninstall a release. Default 300. */
  helmTimeoutSeconds?: number;
  /** Seconds deletions (pods, claims, namespaces) may take. Default 120. */
  deleteTimeoutSeconds?: number;
  logger: Logger;
}

const FIELD_MANAGER = 'agent-fleet-orchestrator';
const MANAGED_SELECTOR = `${LABEL_MANAGED}=true`;

function clientSelector(clientId: ClientId): string {
  return `${LABEL_CLIENT}=${clientId},${MANAGED_SELECTOR}`;
}

/**
 * Runs each client's agent as a Helm release of charts/fleet-agent in its own namespace fleet-<id>, through
 * the helm and kubectl CLIs. The port maps onto Kubernetes as follows:
 * - ensureVolume: the namespace and a labelled PersistentVolumeClaim, outside the release so that
 *   removeAgent (helm uninstall) never deletes the client's data;
 * - ensureNetwork: the namespace (restricted Pod Security) and a namespace-wide deny-all NetworkPolicy; the
 *   subnet is ignored (the CNI assigns pod addresses) and NetworkInfo carries the namespace name;
 * - createAgent: helm upgrade --install with replicas 0 (a running agent keeps running on re-create);
 * - start/stop: kubectl scale 1/0 (stop waits for the pod to be gone);
 * - placeFiles: each a key of the labelled ConfigMap fleet-<id>-files, which the chart mounts read-only at
 *   /etc/agent-fleet-files (AGENT_PLACED_FILES_DIR): the volume itself cannot be written without exec
 *   rights or a helper pod, and the orchestrator has neither;
 * - removeAgent: helm uninstall; inspect/list: kubectl get by our labels.
 * The namespace itself goes once neither the volume nor the network is left in it.
 */
export class KubernetesContainerRuntime implements ContainerRuntime {
  readonly kind = 'kubernetes' as const;
  readonly volumes = unsupportedAgentVolumes;
  private readonly options: KubernetesRuntimeOptions;
  private readonly kube: KubeCommands;

  constructor(options: KubernetesRuntimeOptions) {
    this.options = options;
    const { runner, helmPath, kubectlPath, kubeContext } = options;
    this.kube = new KubeCommands({ runner, helmPath, kubectlPath, kubeContext, logger: options.logger.child({ runtime: 'kubernetes' }) });
  }

  async ensureVolume(clientId: ClientId): Promise<{ created: boolean }> {
    const names = resourceNames(clientId);
    await this.checkNamespaceOwnership(clientId);
    const existing = await getOwned(this.kube, clientId, 'persistentvolumeclaim', names.volume, `volume ${names.volume}`);
    if (existing) return { created: false };
    const claim = clientVolumeClaimManifest(clientId, this.options.agent.volumeSize ?? '1Gi', this.options.agent.storageClassName);
    await this.apply([clientNamespaceManifest(clientId), claim], `create volume ${names.volume}`);
    return { created: true };
  }

  async removeVolume(clientId: ClientId): Promise<void> {
    const names = resourceNames(clientId);
    await this.kube.kubectl(
      ['delete', 'persistentvolumeclaim', '-n', names.namespace, '-l', clientSelector(clientId), '--ignore-not-found', '--wait=true', `--timeout=${this.deleteTimeout()}s`],
      `remove volume ${names.volume}`,
    );
    const policy = await getOwned(this.kube, clientId, 'networkpolicy', DEFAULT_DENY_POLICY_NAME, `network of ${clientId}`);
    if (!policy) await this.removeNamespaceIfUnused(clientId);
  }

  async ensureNetwork(clientId: ClientId, _subnet: string): Promise<NetworkInfo & { created: boolean }> {
    const names = resourceNames(clientId);
    await this.checkNamespaceOwnership(clientId);
    const existing = await getOwned(this.kube, clientId, 'networkpolicy', DEFAULT_DENY_POLICY_NAME, `network of ${clientId}`);
    if (!existing) {
      await this.apply([clientNamespaceManifest(clientId), defaultDenyNetworkPolicyManifest(clientId)], `create network of ${clientId}`);
    }
    return { name: names.namespace, subnet: '', gateway: '', created: !existing };
  }

  async removeNetwork(clientId: ClientId): Promise<void> {
    const names = resourceNames(clientId);
    const policy = await getOwned(this.kube, clientId, 'networkpolicy', DEFAULT_DENY_POLICY_NAME, `network of ${clientId}`);
    if (policy) {
      await this.kube.kubectl(
        ['delete', 'networkpolicy', DEFAULT_DENY_POLICY_NAME, '-n', names.namespace, '--ignore-not-found', '--wait=true', `--timeout=${this.deleteTimeout()}s`],
        `remove network of ${clientId}`,
      );
    }
    await this.removeNamespaceIfUnused(clientId);
  }

  /** Pod addresses come from the cluster's CNI, not from our subnet pool: nothing here can overlap it. */
  async listSubnetsInUse(): Promise<string[]> {
    return [];
  }

  async createAgent(spec: AgentWorkloadSpec): Promise<void> {
    const names = resourceNames(spec.clientId);
    const existing = await getOwnedOrConflict(this.kube, spec.clientId, 'deployment', names.container, `agent ${names.container}`);
    const values = renderAgentValues(spec, {
      ...this.options.agent,
      replicas: existing?.spec?.replicas === 1 ? 1 : 0,
      claimCreatedOutsideRelease: true,
    });
    await this.kube.helm(
      [
        'upgrade', '--install', names.helmRelease, this.options.chartPath,
        '--namespace', names.namespace, '--create-namespace',
        '--values', '-',
        '--wait=watcher', '--timeout', `${this.options.helmTimeoutSeconds ?? 300}s`,
        '--history-max', '3',
      ],
      `install agent release ${names.helmRelease}`,
      JSON.stringify(values),
    );
  }

  /**
   * Scales to one and returns, like `docker start`: the agent becomes ready only after its introduction,
   * which needs it started first, so waiting for readiness here would wait for ever. The provisioner's
   * health step polls inspectAgent and /healthz (through the headless Service) with its own timeout.
   */
  async startAgent(clientId: ClientId): Promise<void> {
    const names = resourceNames(clientId);
    await this.kube.kubectl(['scale', `deployment/${names.container}`, '-n', names.namespace, '--replicas=1'], `start agent ${names.container}`);
  }

  /**
   * Each file has its own server-side-apply field manager, so placing one file never drops another. The
   * kubelet refreshes a mounted ConfigMap within its sync period; a file placed before a start is there
   * when the agent starts. `user` does not apply: ConfigMap files are read-only, group-readable (fsGroup).
   */
  async placeFiles(clientId: ClientId, files: Readonly<Record<string, string>>, _user: string): Promise<void> {
    await Promise.all(Object.entries(files).map(([fileName, content]) => this.applyPlacedFile(clientId, fileName, { [fileName]: content }, `place ${fileName} for ${clientId}`)));
  }

  /** Cluster policy (Pod Security, NetworkPolicy support) is checked by the chart tests, not per provision. */
  async preflightWarnings(): Promise<string[]> {
    return [];
  }

  /** The same field manager applying the ConfigMap without the key: server-side apply drops just that key. */
  async removePlacedFile(clientId: ClientId, fileName: string): Promise<void> {
    await this.applyPlacedFile(clientId, fileName, {}, `remove ${fileName} for ${clientId}`);
  }

  /** Each file has its own server-side-apply field manager: what it applies is that file's key and only it. */
  private async applyPlacedFile(clientId: ClientId, fileName: string, data: Record<string, string>, what: string): Promise<void> {
    checkPlacedFileName(fileName);
    await this.kube.kubectl(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}-file-${fileName}`, '-f', '-'],
      what,
      manifestList([placedFilesManifest(clientId, data)]),
    );
  }

  async stopAgent(clientId: ClientId, graceSeconds: number): Promise<void> {
    const names = resourceNames(clientId);
    const grace = Math.max(0, Math.floor(graceSeconds));
    const scaled = await this.kube.kubectlResult(['scale', `deployment/${names.container}`, '-n', names.namespace, '--replicas=0']);
    if (scaled.code !== 0) {
      const error = translateCommandFailure(scaled, `stop agent ${names.container}`);
      if (error.code === 'not_found') return;
      throw error;
    }
    // Scaling only asks; deleting the pods with the caller's grace period and waiting makes "stopped" true.
    await this.kube.kubectl(
      ['delete', 'pod', '-n', names.namespace, '-l', clientSelector(clientId), `--grace-period=${grace}`, '--ignore-not-found', '--wait=true', `--timeout=${grace + 60}s`],
      `wait for agent ${names.container} to stop`,
    );
  }

  async removeAgent(clientId: ClientId): Promise<void> {
    const names = resourceNames(clientId);
    await this.kube.helm(
      ['uninstall', names.helmRelease, '--namespace', names.namespace, '--ignore-not-found', '--wait=watcher', '--timeout', `${this.options.helmTimeoutSeconds ?? 300}s`],
      `uninstall agent release ${names.helmRelease}`,
    );
  }

  async inspectAgent(clientId: ClientId): Promise<AgentWorkloadState | null> {
    const names = resourceNames(clientId);
    const what = `inspect agent ${names.container}`;
    const result = await this.kube.kubectl(['get', 'deployment,pod', '-n', names.namespace, '-l', clientSelector(clientId), '-o', 'json'], what);
    return workloadStateFromObjects(clientId, parseKubeList(parseJsonOutput(result.stdout, what), what), this.options.clusterDomain);
  }

  async listManaged(): Promise<ManagedResource[]> {
    const what = 'list managed resources';
    const result = await this.kube.kubectl(
      ['get', 'namespace,deployment,persistentvolumeclaim', '--all-namespaces', '-l', MANAGED_SELECTOR, '-o', 'json'],
      what,
    );
    return managedResourcesFromObjects(parseKubeList(parseJsonOutput(result.stdout, what), what));
  }

  /** Refuses a namespace fleet-<id> that exists but is not ours: it may hold someone else's workloads. */
  private async checkNamespaceOwnership(clientId: ClientId): Promise<void> {
    const namespace = resourceNames(clientId).namespace;
    await getOwnedOrConflict(this.kube, clientId, 'namespace', namespace, `namespace ${namespace}`);
  }

  private async removeNamespaceIfUnused(clientId: ClientId): Promise<void> {
    const names = resourceNames(clientId);
    const namespace = await getOwned(this.kube, clientId, 'namespace', names.namespace, `namespace ${names.namespace}`);
    if (!namespace) return;
    const what = `check what is left in ${names.namespace}`;
    const left = await this.kube.kubectl(
      ['get', 'persistentvolumeclaim,deployment,networkpolicy', '-n', names.namespace, '-l', clientSelector(clientId), '-o', 'json'],
      what,
    );
    const remaining = parseKubeList(parseJsonOutput(left.stdout, what), what).filter(
      (object) => object.kind !== 'NetworkPolicy' || object.metadata.name === DEFAULT_DENY_POLICY_NAME,
    );
    if (remaining.length > 0) return;
    await this.kube.kubectl(
      ['delete', 'namespace', names.namespace, '--ignore-not-found', '--wait=true', `--timeout=${this.deleteTimeout()}s`],
      `remove namespace ${names.namespace}`,
    );
  }

  private async apply(manifests: Parameters<typeof manifestList>[0], what: string): Promise<void> {
    await this.kube.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'], what, manifestList(manifests));
  }

  private deleteTimeout(): number {
    return this.options.deleteTimeoutSeconds ?? 120;
  }
}
