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
  'vault',
]);

export const CLIENT_ID_RULE =
  'a client id is 2-32 characters of lower-case a-z, 0-9 and "-", starting with a letter and not ending with "-" (e.g. "acme")';

export function parseClientId(raw: unknown): ClientId {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new FleetError('invalid_input', `missing client id: ${CLIENT_ID_RULE}`);
  }
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  if (!CLIENT_ID_PATTERN.test(raw) || raw.includes('--')) {
    throw new FleetError('invalid_input', `invalid client id ${shown}: ${CLIENT_ID_RULE}`);
  }
  if (RESERVED_CLIENT_IDS.has(raw)) {
    throw new FleetError('invalid_input', `client id ${shown} is reserved: choose another name`);
  }
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
