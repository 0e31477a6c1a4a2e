import * as z from 'zod';
import { LABEL_CLIENT, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { AgentEndpoints, AgentWorkloadState, ManagedResource } from '../../ports/container-runtime.ts';

const containerStateSchema = z
  .object({
    running: z.object({ startedAt: z.string().optional() }).optional(),
    waiting: z.object({ reason: z.string().optional() }).optional(),
    terminated: z.object({ exitCode: z.number().int(), startedAt: z.string().nullish() }).optional(),
  })
  .optional();

const objectSchema = z.object({
  kind: z.string(),
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    deletionTimestamp: z.string().optional(),
  }),
  spec: z.object({ replicas: z.number().int().optional() }).loose().optional(),
  status: z
    .object({
      readyReplicas: z.number().int().optional(),
      phase: z.string().optional(),
      containerStatuses: z
        .array(
          z.object({
            name: z.string(),
            ready: z.boolean().optional(),
            state: containerStateSchema,
            lastState: containerStateSchema,
          }),
        )
        .optional(),
    })
    .loose()
    .optional(),
});

const listSchema = z.object({ items: z.array(objectSchema) });
type KubeObject = z.infer<typeof objectSchema>;

/** Parses `kubectl get … -o json` (a List) into the few fields we read; anything else is an internal error. */
export function parseKubeList(json: unknown, what: string): KubeObject[] {
  const result = listSchema.safeParse(json);
  if (!result.success) throw new FleetError('internal', `${what}: unexpected kubectl output (${result.error.issues[0]?.message ?? 'invalid'})`);
  return result.data.items;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** The ports of the Service charts/fleet-agent creates (templates/service.yaml). */
const SERVICE_PORTS = { control: 8080, metrics: 9464 } as const;

/**
 * The agent's Service as the in-cluster orchestrator reaches it: charts/fleet-agent names it fleet-<id> in
 * the namespace fleet-<id>. The fully qualified name does not depend on the caller's DNS search path.
 */
export function agentServiceEndpoints(clientId: ClientId, clusterDomain = DEFAULT_CLUSTER_DOMAIN): AgentEndpoints {
  const names = resourceNames(clientId);
  const host = `${names.container}.${names.namespace}.svc.${clusterDomain}`;
  return { control: `${host}:${SERVICE_PORTS.control}`, metrics: `${host}:${SERVICE_PORTS.metrics}` };
}

function ownedBy(object: KubeObject, clientId: ClientId): boolean {
  return object.metadata.labels?.[LABEL_MANAGED] === 'true' && object.metadata.labels[LABEL_CLIENT] === clientId;
}

/**
 * The agent's state from its Deployment and pods (`kubectl get deployment,pod -l <client selector>`), in
 * the same vocabulary as the Docker runtime: 'running', 'created' (scaled up, pod not started yet),
 * 'restarting' (crash loop), 'exited' (its container ended), 'stopped' (scaled to zero). Kubernetes
 * publishes no host ports: the orchestrator runs in-cluster and reaches agents through their Service.
 */
export function workloadStateFromObjects(clientId: ClientId, objects: KubeObject[], clusterDomain = DEFAULT_CLUSTER_DOMAIN): AgentWorkloadState | null {
  const deployment = objects.find((object) => object.kind === 'Deployment' && ownedBy(object, clientId));
  if (!deployment) return null;
  const pods = objects.filter((object) => object.kind === 'Pod' && ownedBy(object, clientId) && !object.metadata.deletionTimestamp);
  const agent = pods.flatMap((pod) => pod.status?.containerStatuses ?? []).find((status) => status.name === 'agent');
  const base = { clientId, exists: true as const, endpoints: agentServiceEndpoints(clientId, clusterDomain) };
  if ((deployment.spec?.replicas ?? 1) === 0 && pods.length === 0) {
    return { ...base, running: false, status: 'stopped', exitCode: null, startedAt: null };
  }
  if (!agent) return { ...base, running: false, status: 'created', exitCode: null, startedAt: null };
  if (agent.state?.running) {
    return { ...base, running: true, status: 'running', exitCode: null, startedAt: agent.state.running.startedAt ?? null };
  }
  const lastExit = agent.state?.terminated ?? agent.lastState?.terminated;
  if (agent.state?.waiting?.reason === 'CrashLoopBackOff') {
    return { ...base, running: false, status: 'restarting', exitCode: lastExit?.exitCode ?? null, startedAt: lastExit?.startedAt ?? null };
  }
  if (agent.state?.terminated) {
    return { ...base, running: false, status: 'exited', exitCode: agent.state.terminated.exitCode, startedAt: agent.state.terminated.startedAt ?? null };
  }
  return { ...base, running: false, status: 'created', exitCode: null, startedAt: null };
}

const MANAGED_KINDS: Record<string, ManagedResource['kind']> = {
  Deployment: 'container',
  PersistentVolumeClaim: 'volume',
  Namespace: 'network',
};

/**
 * Managed objects as the port's resources: a Deployment is the agent ('container'), a claim its volume, a
 * namespace its network. Objects on their way out (deletionTimestamp set) are still listed: they exist.
 */
export function managedResourcesFromObjects(objects: KubeObject[]): ManagedResource[] {
  return objects.flatMap((object) => {
    const kind = MANAGED_KINDS[object.kind];
    const clientId = object.metadata.labels?.[LABEL_CLIENT];
    if (!kind || object.metadata.labels?.[LABEL_MANAGED] !== 'true' || !clientId) return [];
    return [{ kind, name: object.metadata.name, clientId }];
  });
}
