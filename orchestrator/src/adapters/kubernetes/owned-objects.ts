import { LABEL_CLIENT, LABEL_MANAGED, resourceNames, type ClientId } from '@agent-fleet/kernel/client-id';
import { FleetError } from '@agent-fleet/kernel/fleet-error';
import type { KubeCommands } from './kube-commands.ts';
import { parseJsonOutput } from './kubernetes-errors.ts';

/** The parts of a Kubernetes object the runtime reads: our labels, and a Deployment's replicas. */
export interface LabelledObject {
  metadata?: { labels?: Record<string, string> };
  spec?: { replicas?: number };
}

function ownedBy(object: LabelledObject, clientId: ClientId): boolean {
  return object.metadata?.labels?.[LABEL_MANAGED] === 'true' && object.metadata.labels[LABEL_CLIENT] === clientId;
}

/** The named object (in the client's namespace unless it is the namespace), or null if absent. */
async function getObject(kube: KubeCommands, clientId: ClientId, kind: string, name: string, what: string): Promise<LabelledObject | null> {
  const namespaced = kind === 'namespace' ? [] : ['-n', resourceNames(clientId).namespace];
  const result = await kube.kubectl(['get', kind, name, ...namespaced, '-o', 'json', '--ignore-not-found'], `inspect ${what}`);
  if (result.stdout.trim() === '') return null;
  return parseJsonOutput(result.stdout, `inspect ${what}`) as LabelledObject;
}

/** The named object if it exists and carries this client's labels; null if absent or someone else's. */
export async function getOwned(kube: KubeCommands, clientId: ClientId, kind: string, name: string, what: string): Promise<LabelledObject | null> {
  const object = await getObject(kube, clientId, kind, name, what);
  return object && ownedBy(object, clientId) ? object : null;
}

/** The named object if it is ours, null if absent; a conflict if it exists without our labels. */
export async function getOwnedOrConflict(kube: KubeCommands, clientId: ClientId, kind: string, name: string, what: string): Promise<LabelledObject | null> {
  const object = await getObject(kube, clientId, kind, name, what);
  if (object && !ownedBy(object, clientId)) {
    throw new FleetError('conflict', `${what} exists but is not managed by agent-fleet for ${clientId}; refusing to use it`);
  }
  return object;
}
