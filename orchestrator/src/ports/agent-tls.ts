import type { AgentTlsBundle } from '@agent-fleet/kernel/agent-identity';
import type { ClientId } from '@agent-fleet/kernel/client-id';

export type { AgentTlsBundle };

/** Issues agents' certificates from the fleet CA (each names its client id and nothing else). */
export interface AgentCertificateIssuer {
  /** A fresh key pair and certificate for client `clientId`'s agent, with the CA certificate. */
  issueAgentCertificate(clientId: ClientId, now: Date): Promise<AgentTlsBundle & { notAfter: Date }>;
}

/**
 * Where an agent's TLS bundle is kept for it: the client's own Vault path (`fleet/data/<id>/tls/agent`),
 * readable by the agent's token and by nobody else but the orchestrator.
 */
export interface AgentTlsVault {
  /**
   * Stores the bundle the agent is to serve with (replacing the previous one), with the key of its sealed
   * config when it starts on Docker (`config_key`).
   */
  store(clientId: ClientId, bundle: AgentTlsBundle & { configKey?: string }): Promise<void>;
  /**
   * A single-use, `ttlSeconds`-bounded wrapping token of a read of the stored bundle: handing it to the
   * agent hands it the bundle, and only once. Its creation path is the bundle's KV path.
   */
  wrapRead(clientId: ClientId, ttlSeconds: number): Promise<{ wrappingToken: string; creationPath: string }>;
}
