import { resourceNames } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentWorkloadSpec } from '../../ports/container-runtime.ts';
import type { FleetAgentValues } from './agent-values.ts';
import { bytesToQuantity, nanoCpusToQuantity } from './quantities.ts';

/** Cluster facts the spec does not carry: where Vault, DNS, monitoring and the orchestrator live. */
export interface AgentValuesOptions {
  /** 0 creates the workload stopped (createAgent); 1 runs it. */
  replicas: 0 | 1;
  vault: {
    address: string;
    /** Vault Kubernetes-auth role; default fleet-<id>. */
    role?: string;
    /** PEM of the CA Vault's TLS certificate chains to (VAULT_CACERT); default none: the image's trust store. */
    caCertificatePem?: string;
    authPath?: string;
    /** Namespace of an in-cluster Vault the agent may reach; undefined when Vault is outside (reached on 443). */
    namespace?: string;
    port?: number;
  };
  monitoringNamespace: string;
  orchestratorNamespace: string;
  dns?: { namespace: string; podLabels: Record<string, string> };
  /** Size of the client's volume (Kubernetes quantity), used when the chart creates the claim. */
  volumeSize?: string;
  storageClassName?: string;
  /** True when ensureVolume already created the claim, so the release must not own it. */
  claimCreatedOutsideRelease: boolean;
  /** OCI runtime name (spec.ociRuntime) -> RuntimeClass name in this cluster, e.g. { runsc: 'gvisor' }. */
  runtimeClasses?: Record<string, string>;
  userNamespaces?: boolean;
  /** Memory request; default the limit, so nodes never overcommit agent memory. */
  memoryRequestBytes?: number;
  /** CPU request in nanoCPUs; default a tenth of the limit. */
  cpuRequestNanoCpus?: number;
  imagePullPolicy?: FleetAgentValues['image']['pullPolicy'];
  terminationGracePeriodSeconds?: number;
}

/** Variables the chart sets itself; the spec may not override them. */
const CHART_OWNED_ENV = new Set(['AGENT_CONFIG_PATH', 'AGENT_DATA_DIR', 'VAULT_ADDR', 'AGENT_VAULT_SINK_FILE', 'AGENT_PLACED_FILES_DIR', 'AGENT_TLS_DIR', 'VAULT_CACERT']);
/** Same rule as the chart's values.schema.json: secrets come from Vault, never from the environment. */
export const SECRET_LIKE_ENV_NAME = /(token|secret|passw(or)?d|api_?key|private_?key|credential)/i;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits `repo[:tag][@sha256:…]` into the chart's image fields. */
export function parseImageReference(image: string): FleetAgentValues['image'] & { pullPolicy: 'IfNotPresent' } {
  const [withTag = '', digest = ''] = image.split('@', 2);
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  const hasTag = colon > slash;
  const repository = hasTag ? withTag.slice(0, colon) : withTag;
  const tag = hasTag ? withTag.slice(colon + 1) : 'latest';
  if (!/^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?$/.test(repository) || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw new FleetError('invalid_input', `invalid image reference ${JSON.stringify(image)}: expected repository[:tag][@sha256:<hex>]`);
  }
  if (digest && !/^sha256:[a-f0-9]{64}$/.test(digest)) {
    throw new FleetError('invalid_input', `invalid image digest in ${JSON.stringify(image)}: expected sha256:<64 hex>`);
  }
  return { repository, tag, digest, pullPolicy: 'IfNotPresent' };
}

function parseNonRootUser(user: string): { uid: number; gid: number } {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(user);
  const uid = Number(match?.[1]);
  const gid = Number(match?.[2] ?? match?.[1]);
  if (!match || uid < 1 || gid < 1 || uid > 2147483647 || gid > 2147483647) {
    throw new FleetError('invalid_input', `agent user must be a numeric non-root uid[:gid] (got ${JSON.stringify(user)})`);
  }
  return { uid, gid };
}

function checkEnvironment(environment: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(environment)) {
    if (!ENV_NAME.test(name)) throw new FleetError('invalid_input', `invalid environment variable name ${JSON.stringify(name)}`);
    if (CHART_OWNED_ENV.has(name)) throw new FleetError('invalid_input', `environment variable ${name} is set by the chart itself`);
    if (SECRET_LIKE_ENV_NAME.test(name)) {
      throw new FleetError('invalid_input', `environment variable ${name} looks like a secret: secrets reach the agent through Vault only`);
    }
  }
  return { ...environment };
}

function runtimeClassFor(ociRuntime: string | undefined, classes: Record<string, string>): string {
  if (ociRuntime === undefined || ociRuntime === 'runc') return '';
  const name = classes[ociRuntime];
  if (!name) {
    throw new FleetError('invalid_input', `no RuntimeClass is configured for OCI runtime ${JSON.stringify(ociRuntime)} on this cluster`);
  }
  return name;
}

/**
 * The charts/fleet-agent values for one client: the Kubernetes twin of buildAgentContainerOptions. Pure, so
 * the same guarantees are checked on both renderers' outputs (tests/integration/charts/).
 */
export function renderAgentValues(spec: AgentWorkloadSpec, options: AgentValuesOptions): FleetAgentValues {
  const names = resourceNames(spec.clientId);
  const image = parseImageReference(spec.image);
  // The provisioner hands every runtime the agent's Vault address as VAULT_ADDR; the chart sets that
  // variable itself, from vault.address (also the Vault Agent injector's address).
  const { VAULT_ADDR: specVaultAddress, ...environment } = spec.environment;
  const cpuRequest = Math.min(options.cpuRequestNanoCpus ?? spec.limits.nanoCpus / 10, spec.limits.nanoCpus);
  const memoryRequest = Math.min(options.memoryRequestBytes ?? spec.limits.memoryBytes, spec.limits.memoryBytes);
  return {
    clientId: spec.clientId,
    image: { ...image, pullPolicy: options.imagePullPolicy ?? image.pullPolicy },
    imagePullSecrets: [],
    replicas: options.replicas,
    user: parseNonRootUser(spec.user),
    resources: {
      limits: { memory: bytesToQuantity(spec.limits.memoryBytes), cpu: nanoCpusToQuantity(spec.limits.nanoCpus) },
      requests: { memory: bytesToQuantity(memoryRequest), cpu: nanoCpusToQuantity(cpuRequest) },
    },
    pidsLimit: spec.limits.pids,
    tmp: { sizeLimit: bytesToQuantity(spec.limits.tmpfsBytes) },
    persistence: {
      create: !options.claimCreatedOutsideRelease,
      claimName: names.volume,
      size: options.volumeSize ?? '1Gi',
      storageClassName: options.storageClassName ?? '',
    },
    config: spec.configYaml,
    env: checkEnvironment(environment),
    terminationGracePeriodSeconds: options.terminationGracePeriodSeconds ?? 10,
    runtimeClassName: runtimeClassFor(spec.ociRuntime, options.runtimeClasses ?? {}),
    userNamespaces: { enabled: options.userNamespaces ?? false },
    probes: { periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3, startupFailureThreshold: 30 },
    networkPolicy: {
      monitoringNamespace: options.monitoringNamespace,
      dns: options.dns ?? { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' } },
      httpsEgress: { except: ['169.254.169.254/32'] },
      orchestrator: { enabled: true, namespace: options.orchestratorNamespace },
      vault: {
        enabled: options.vault.namespace !== undefined,
        namespace: options.vault.namespace ?? 'vault',
        port: options.vault.port ?? 8200,
      },
    },
    vault: {
      address: specVaultAddress ?? options.vault.address,
      caCertificate: options.vault.caCertificatePem ?? '',
      kvMount: 'fleet',
      role: options.vault.role ?? names.vaultPolicy,
      authPath: options.vault.authPath ?? 'auth/kubernetes',
      prePopulateOnly: true,
      agentResources: { requestsCpu: '10m', requestsMem: '16Mi', limitsCpu: '100m', limitsMem: '64Mi' },
      serviceAccountTokenExpirationSeconds: 600,
      serviceAccountTokenAudience: 'vault',
    },
    metrics: { scrapeAnnotations: true, serviceMonitor: { enabled: false, interval: '30s', labels: {} } },
  };
}
