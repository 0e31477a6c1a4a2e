import { FleetError } from './fleet-error.ts';

/** A validated client id: a DNS-1123 label everything else is derived from. */
export type ClientId = string & { readonly __brand: 'ClientId' };

const CLIENT_ID_PATTERN = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** Names that would collide with our own resources or read as commands. */
const RESERVED_CLIENT_IDS = new Set([
  'all',
  'admin',
  'default',
  'docker',
  'fleet',
  'host',
  'kube-system',
  'kube-public',
  'localhost',
  'none',
  'bridge',
  'monitoring',
  'orchestrator',
  'prometheus',
  'alertmanager',
  'root',
  'system',
  // The egress proxy's label for refusals from a source it cannot tie to a client.
  'unknown',
  'vault',
]);

export const CLIENT_ID_RULE =
  'a client id is 2-32 characters of lower-case a-z, 0-9 and "-", starting with a letter and not ending with "-" (e.g. "acme")';

/**
 * Endings that would give a client's agent container the name of another client's helper container:
 * the volume reader `fleet-<client>-reader` (docker-agent-volumes.ts) and the volume helpers
 * `fleet-<client>-helper-<8 hex>` (helper-containers.ts). Client "acme-reader" would own the container
 * name of acme's reader, so acme's export or erasure fails on a name conflict while acme-reader runs.
 */
const HELPER_CONTAINER_ENDING = /-(reader|helper-[0-9a-f]{8})$/;

/**
 * Why `raw` is not a client id, as one line for ops (naming the id), or undefined when it is one. The
 * one rule for the CLI, the API and the `client:` field of a config.
 */
export function clientIdIssue(raw: string): string | undefined {
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (!CLIENT_ID_PATTERN.test(raw) || raw.includes('--')) return `invalid client id ${shown}: ${CLIENT_ID_RULE}`;
  if (RESERVED_CLIENT_IDS.has(raw)) return `client id ${shown} is reserved: choose another name`;
  const ending = HELPER_CONTAINER_ENDING.exec(raw);
  if (ending !== null) {
    return `client id ${shown} is reserved: it ends in "${ending[0]}", which names the helper containers of client "${raw.slice(0, ending.index)}"; choose another name`;
  }
  return undefined;
}

export function parseClientId(raw: unknown): ClientId {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new FleetError('invalid_input', `missing client id: ${CLIENT_ID_RULE}`);
  }
  const issue = clientIdIssue(raw);
  if (issue !== undefined) throw new FleetError('invalid_input', issue);
  return raw as ClientId;
}

/** Names of every resource derived from a client id, in one place. */
export function resourceNames(clientId: ClientId) {
  return {
    container: `fleet-${clientId}`,
    volume: `fleet-${clientId}-data`,
    network: `fleet-${clientId}`,
    vaultPath: `fleet/${clientId}/`,
    vaultPolicy: `fleet-${clientId}`,
    helmRelease: `fleet-${clientId}`,
    namespace: `fleet-${clientId}`,
  } as const;
}

export const LABEL_CLIENT = 'io.agentfleet.client';
export const LABEL_MANAGED = 'io.agentfleet.managed';
/** Which fleet (orchestrator registry) owns a resource, so fleets sharing an engine never collide. */
export const LABEL_FLEET = 'io.agentfleet.fleet';

export function clientLabels(clientId: ClientId): Record<string, string> {
  return { [LABEL_CLIENT]: clientId, [LABEL_MANAGED]: 'true' };
}
