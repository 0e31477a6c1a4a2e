import { clientLabels, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';

/** Name of the namespace-wide deny-all policy ensureNetwork applies before any workload exists. */
export const DEFAULT_DENY_POLICY_NAME = 'fleet-default-deny';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

/** ConfigMap the orchestrator places files in (placeFiles); the chart mounts it at /etc/agent-fleet-files. */
export function placedFilesConfigMapName(clientId: ClientId): string {
  return `fleet-${clientId}-files`;
}

/** The client's files ConfigMap with the given keys (none: what a field manager applies to drop its key). */
export function placedFilesManifest(clientId: ClientId, data: Record<string, string> = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: placedFilesConfigMapName(clientId), namespace: resourceNames(clientId).namespace, labels: clientLabels(clientId) },
    data,
  };
}

/** The client's namespace, held to the restricted Pod Security Standard. */
export function clientNamespaceManifest(clientId: ClientId): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: resourceNames(clientId).namespace,
      labels: {
        ...clientLabels(clientId),
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
      },
    },
  };
}

/**
 * Everything in the namespace is closed in both directions from the moment it exists; the agent release's
 * own NetworkPolicy then opens only DNS, egress on 443 (and Vault), and the monitoring/orchestrator ingress.
 */
export function defaultDenyNetworkPolicyManifest(clientId: ClientId): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: DEFAULT_DENY_POLICY_NAME, namespace: resourceNames(clientId).namespace, labels: clientLabels(clientId) },
    spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
  };
}

/** The client's data volume, created outside the release so that uninstalling the agent keeps the data. */
export function clientVolumeClaimManifest(clientId: ClientId, size: string, storageClassName?: string): Manifest {
  const names = resourceNames(clientId);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: names.volume, namespace: names.namespace, labels: clientLabels(clientId) },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}

/** A kubectl List, so several objects go to `kubectl apply -f -` in one call. */
export function manifestList(items: Manifest[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}
