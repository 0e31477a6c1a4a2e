import type { ClientId } from '@agent-fleet/kernel/client-id';

/** Mount of the clients' KV v2 secrets: `fleet/data/<id>/<name>`. */
export const KV_MOUNT = 'fleet';
/** Transit mount holding one key per client, `fleet-<id>`. */
export const TRANSIT_MOUNT = 'transit';
/** Orchestrator-only KV v2 mount (accessors of issued agent tokens); no client policy names it. */
export const SYSTEM_MOUNT = 'fleet-system';

/** Every Vault name derived from a client id, in one place. */
export function vaultNames(clientId: ClientId) {
  const name = `fleet-${clientId}`;
  return {
    policy: name,
    role: name,
    transitKey: name,
    creationPath: `auth/token/create/${name}`,
    dataPrefix: `${KV_MOUNT}/data/${clientId}/`,
    metadataPrefix: `${KV_MOUNT}/metadata/${clientId}/`,
    accessorRecord: `${SYSTEM_MOUNT}/data/agent-tokens/${clientId}`,
    accessorMetadata: `${SYSTEM_MOUNT}/metadata/agent-tokens/${clientId}`,
    controlTokenRecord: `${SYSTEM_MOUNT}/data/control-tokens/${clientId}`,
    controlTokenMetadata: `${SYSTEM_MOUNT}/metadata/control-tokens/${clientId}`,
    controlTokenHash: `${KV_MOUNT}/data/${clientId}/control`,
    controlTokenHashMetadata: `${KV_MOUNT}/metadata/${clientId}/control`,
  } as const;
}

/** The client's ACL policy: its own KV path, its own transit key, and its own token. Nothing else. */
export function clientPolicy(clientId: ClientId): string {
  const { dataPrefix, metadataPrefix, transitKey } = vaultNames(clientId);
  return `# agent-fleet: policy of client ${clientId}'s agent. Generated; do not edit.
path "${dataPrefix}*" { capabilities = ["create", "read", "update", "delete"] }
path "${metadataPrefix}*" { capabilities = ["read", "list"] }
path "${TRANSIT_MOUNT}/encrypt/${transitKey}" { capabilities = ["update"] }
path "${TRANSIT_MOUNT}/decrypt/${transitKey}" { capabilities = ["update"] }
path "${TRANSIT_MOUNT}/rewrap/${transitKey}" { capabilities = ["update"] }
path "${TRANSIT_MOUNT}/datakey/plaintext/${transitKey}" { capabilities = ["update"] }
path "${TRANSIT_MOUNT}/datakey/wrapped/${transitKey}" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/wrapping/unwrap" { capabilities = ["update"] }
`;
}

/** What a killed client's policy becomes: its existing tokens can do nothing at all. */
export const DENY_ALL_POLICY = `# agent-fleet: client locked by the kill switch.
path "*" { capabilities = ["deny"] }
`;
